import { Readable } from 'node:stream';

/**
 * A streaming multipart/form-data reader (what Swift's iter_multipart_mime_documents does for
 * FormPOST): parts one at a time, each body a stream that ends at the next boundary, so an
 * uploaded file is never held whole.
 */

export class MimeInvalid extends Error {
  override name = 'MimeInvalid';
}

export interface MimePart {
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Readable;
}

const MAX_HEADER_BYTES = 16384;

class Scanner {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer | string>;

  constructor(input: AsyncIterable<Buffer | string>) {
    this.it = input[Symbol.asyncIterator]();
  }

  private async more(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) return false;
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  /** At least n bytes buffered (fewer only at the end of the input). */
  async peek(n: number): Promise<Buffer> {
    while (this.buf.length < n) if (!(await this.more())) break;
    return this.buf.subarray(0, n);
  }

  consume(n: number): void {
    this.buf = this.buf.subarray(n);
  }

  /** The bytes before `pattern` (consumed with it); MimeInvalid past `limit` bytes or at the end. */
  async until(pattern: Buffer, limit: number): Promise<Buffer> {
    for (;;) {
      const at = this.buf.indexOf(pattern);
      if (at >= 0) {
        const out = this.buf.subarray(0, at);
        this.consume(at + pattern.length);
        return out;
      }
      if (this.buf.length > limit || !(await this.more())) throw new MimeInvalid('invalid mime headers');
    }
  }

  /** The next run of body bytes before `delimiter`; `done` once the delimiter is consumed. */
  async bodyChunk(delimiter: Buffer): Promise<{ data: Buffer; done: boolean }> {
    for (;;) {
      const at = this.buf.indexOf(delimiter);
      if (at >= 0) {
        const data = this.buf.subarray(0, at);
        this.consume(at + delimiter.length);
        return { data, done: true };
      }
      // keep a tail that may be the start of the delimiter
      const safe = this.buf.length - (delimiter.length - 1);
      if (safe > 0) {
        const data = this.buf.subarray(0, safe);
        this.consume(safe);
        return { data, done: false };
      }
      if (!(await this.more())) throw new MimeInvalid('unexpected end of form data');
    }
  }
}

function parseHeaders(block: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.toString('utf8').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}

export async function* iterMultipart(input: AsyncIterable<Buffer | string>, boundary: string): AsyncGenerator<MimePart> {
  const scanner = new Scanner(input);
  const first = Buffer.from(`--${boundary}`);
  if (!(await scanner.peek(first.length)).equals(first)) throw new MimeInvalid('invalid starting boundary');
  scanner.consume(first.length);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  for (;;) {
    // after a boundary: "--" ends the form, otherwise the rest of the line is skipped
    if ((await scanner.peek(2)).toString('latin1') === '--') return;
    await scanner.until(Buffer.from('\n'), 1024);
    const headers = parseHeaders(await scanner.until(Buffer.from('\r\n\r\n'), MAX_HEADER_BYTES));
    let done = false;
    let inflight: Promise<void> | null = null;
    const body = new Readable({
      read() {
        if (inflight) return;
        if (done) {
          this.push(null);
          return;
        }
        inflight = scanner.bodyChunk(delimiter).then(
          (next) => {
            inflight = null;
            done = next.done;
            // bodyChunk never returns an empty, unfinished run; read() ends the stream once done
            if (next.data.length) this.push(next.data);
            else this.push(null);
          },
          (err: unknown) => {
            inflight = null;
            this.destroy(err instanceof Error ? err : new MimeInvalid(String(err)));
          },
        );
      },
    });
    yield { headers, body };
    const pending: Promise<void> | null = inflight;
    if (pending) await pending;
    if (!body.destroyed) body.destroy();
    while (!done) done = (await scanner.bodyChunk(delimiter)).done;
  }
}

/** The value and parameters of a Content-Disposition or Content-Type header. */
export function parseHeaderParams(value: string): { value: string; params: Record<string, string> } {
  const [head = '', ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
    params[p.slice(0, eq).trim().toLowerCase()] = v;
  }
  return { value: head.trim().toLowerCase(), params };
}
