import { Readable, addAbortSignal } from 'node:stream';
import { StoreObjectMissing, type ByteRange, type ImageStore } from './types.js';

/** The fake store for fast tests: objects in a Map, same contract as the filesystem store. */
export class MemoryImageStore implements ImageStore {
  readonly name = 'memory';
  private readonly objects = new Map<string, Buffer>();

  async put(key: string, data: Readable, signal?: AbortSignal): Promise<{ size: number }> {
    const chunks: Buffer[] = [];
    if (signal) addAbortSignal(signal, data);
    for await (const chunk of data) {
      signal?.throwIfAborted();
      chunks.push(Buffer.from(chunk as Buffer));
    }
    signal?.throwIfAborted();
    const body = Buffer.concat(chunks);
    this.objects.set(key, body);
    return { size: body.length };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const body = this.objects.get(key);
    if (!body) throw new StoreObjectMissing(`no object ${key}`);
    return Readable.from([range ? body.subarray(range.start, range.end + 1) : body]);
  }

  async stat(key: string): Promise<{ size: number } | null> {
    const body = this.objects.get(key);
    return body ? { size: body.length } : null;
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async list(): Promise<string[]> {
    return [...this.objects.keys()];
  }

  async cleanupPartial(): Promise<number> {
    return 0;
  }

  locationUrl(key: string): string {
    return `memory://${key}`;
  }

  keyOf(url: string): string | null {
    const key = url.startsWith('memory://') ? url.slice('memory://'.length) : '';
    return /^[A-Za-z0-9._-]{1,200}$/.test(key) ? key : null;
  }
}
