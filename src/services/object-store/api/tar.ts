import { Readable } from 'node:stream';

/**
 * A streaming reader of tar archives (POSIX ustar, pax extended headers, GNU long names): one
 * entry at a time, its data handed out as a stream of the archive's own chunks, so an archive
 * of any size passes through with at most one chunk and one 512-byte block held.
 */

export class TarError extends Error {
  override name = 'TarError';
}

export interface TarEntry {
  name: string;
  size: number;
  /** 'file' for regular files; directories, links and devices are 'other'. */
  kind: 'file' | 'directory' | 'other';
  /** pax extended header records of this entry (global ones merged in). */
  pax: Record<string, string>;
  /** The entry's data; whatever the consumer leaves unread is skipped. */
  body: Readable;
}

const BLOCK = 512;

/** Pulls exact byte counts out of an async iterable of chunks. */
class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private readonly it: AsyncIterator<Buffer | string>;

  constructor(input: AsyncIterable<Buffer | string>) {
    this.it = input[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) this.ended = true;
      else {
        const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
        if (b.length) {
          this.chunks.push(b);
          this.buffered += b.length;
        }
      }
    }
  }

  /** Up to `max` bytes of what is buffered (reading more first when nothing is). */
  async some(max: number): Promise<Buffer> {
    await this.fill(1);
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0);
    const out = first.length <= max ? first : first.subarray(0, max);
    if (out.length === first.length) this.chunks.shift();
    else this.chunks[0] = first.subarray(max);
    this.buffered -= out.length;
    return out;
  }

  /** Exactly n bytes, or fewer only at the end of the input. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const b = await this.some(left);
      if (!b.length) break;
      parts.push(b);
      left -= b.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const b = await this.some(left);
      if (!b.length) throw new TarError('unexpected end of data');
      left -= b.length;
    }
  }
}

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul).toString('utf8');
}

/** Octal numeric field, or GNU base-256 when the high bit of the first byte is set. */
function numeric(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if ((field[0] ?? 0) & 0x80) {
    let value = (field[0] ?? 0) & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarError('invalid header');
  return parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] as number);
  return numeric(block, 148, 8) === sum;
}

/** "LEN key=value\n" records of a pax extended header. */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number(data.subarray(pos, space).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length) throw new TarError('invalid header');
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/** Metadata entries are read whole; a limit keeps a hostile archive from making that large. */
const MAX_META_ENTRY = 1 << 20;

export async function* readTar(input: AsyncIterable<Buffer | string>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(input);
  let globalPax: Record<string, string> = {};
  let nextPax: Record<string, string> = {};
  let longName: string | undefined;
  let first = true;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block.length === 0) {
      if (first) throw new TarError('empty file');
      return;
    }
    if (block.length < BLOCK) throw new TarError('unexpected end of data');
    first = false;
    if (block.every((b) => b === 0)) return;
    if (!checksumOk(block)) throw new TarError('bad checksum');
    const type = String.fromCharCode(block[156] ?? 0);
    let size = numeric(block, 124, 12);
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > MAX_META_ENTRY) throw new TarError('invalid header');
      const data = await reader.read(size);
      if (data.length < size) throw new TarError('unexpected end of data');
      await reader.skip(padding(size));
      if (type === 'x') nextPax = { ...nextPax, ...parsePax(data) };
      else if (type === 'g') globalPax = { ...globalPax, ...parsePax(data) };
      else if (type === 'L') longName = cString(data, 0, data.length);
      continue;
    }
    const pax = { ...globalPax, ...nextPax };
    const ustar = block.subarray(257, 262).toString('latin1') === 'ustar';
    const prefix = ustar ? cString(block, 345, 155) : '';
    let name = longName ?? (prefix ? `${prefix}/${cString(block, 0, 100)}` : cString(block, 0, 100));
    if (pax.path !== undefined) name = pax.path;
    if (pax.size !== undefined && /^\d+$/.test(pax.size)) size = Number(pax.size);
    nextPax = {};
    longName = undefined;
    // directories, links, devices and FIFOs carry no data worth keeping
    const kind = type === '0' || type === '\0' || type === '7' ? 'file' : type === '5' ? 'directory' : 'other';
    const dataSize = kind === 'file' || type === '\0' ? size : type === '1' || type === '2' || type === '3' || type === '4' || type === '5' || type === '6' ? 0 : size;
    let taken = 0;
    let inflight: Promise<void> | null = null;
    const body = new Readable({
      read() {
        if (inflight) return;
        if (taken >= dataSize) {
          this.push(null);
          return;
        }
        inflight = reader.some(Math.min(dataSize - taken, 65536)).then(
          (chunk) => {
            inflight = null;
            if (!chunk.length) return void this.destroy(new TarError('unexpected end of data'));
            taken += chunk.length;
            // the next read() (now or when the consumer wants more) ends the stream at dataSize
            this.push(chunk);
          },
          (err: unknown) => {
            inflight = null;
            this.destroy(err instanceof Error ? err : new TarError(String(err)));
          },
        );
      },
    });
    yield { name, size: dataSize, kind, pax, body };
    // the consumer is done with this entry: let a pending read land, then skip what is left
    const pending: Promise<void> | null = inflight;
    if (pending) await pending;
    if (!body.destroyed) body.destroy();
    await reader.skip(dataSize - taken + padding(dataSize));
  }
}
