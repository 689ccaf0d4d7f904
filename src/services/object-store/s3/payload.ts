import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from './errors.js';
import { chunkStringToSign, EMPTY_SHA256, safeEqual, signV4 } from './sigv4.js';

/**
 * Request bodies pass through one of these on their way to storage. Each fails the pipeline
 * (so the storage write is abandoned, never committed) when the body is not what was signed,
 * and keeps the S3 error in `failure` because storage reports any stream failure as its own kind.
 */
export interface PayloadCheck extends Transform {
  failure?: S3Error;
}

/** x-amz-content-sha256 carried a hex digest: the body must hash to it. */
export class Sha256Verifier extends Transform implements PayloadCheck {
  failure?: S3Error;
  private readonly hash: Hash = createHash('sha256');
  constructor(private readonly expected: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.hash.digest('hex') !== this.expected.toLowerCase()) {
      this.failure = new S3Error('XAmzContentSHA256Mismatch');
      cb(this.failure);
      return;
    }
    cb();
  }
}

export interface ChunkSigning {
  key: Buffer;
  amzDate: string;
  scope: string;
  seedSignature: string;
}

const MAX_LINE = 4096;

/**
 * Decodes Content-Encoding: aws-chunked (`hex-size[;chunk-signature=sig]\r\n data \r\n` ...
 * `0...\r\n` [trailers] `\r\n`), checking every chunk's signature against the previous one when
 * `signing` is given. Data flows out as it arrives: a bad chunk fails the stream before the
 * storage write completes, so unsigned bytes are never acknowledged.
 */
export class AwsChunkedDecoder extends Transform implements PayloadCheck {
  failure?: S3Error;
  decodedBytes = 0;
  private state: 'header' | 'data' | 'data-crlf' | 'trailer' | 'done' = 'header';
  private line = Buffer.alloc(0);
  private remaining = 0;
  private chunkSignature = '';
  private previous: string;
  private chunkHash: Hash | undefined;

  constructor(private readonly signing: ChunkSigning | undefined) {
    super();
    this.previous = signing?.seedSignature ?? '';
  }

  private fail(message: string, cb: TransformCallback, code: 'SignatureDoesNotMatch' | 'IncompleteBody' | 'InvalidArgument' = 'IncompleteBody'): void {
    this.failure = new S3Error(code, message);
    cb(this.failure);
  }

  /** Takes one CRLF-terminated line from `buf` at `at`; null when it is not complete yet. */
  private takeLine(buf: Buffer, at: number): { line: string; next: number } | null {
    const nl = buf.indexOf(0x0a, at);
    if (nl < 0) {
      this.line = Buffer.concat([this.line, buf.subarray(at)]);
      return null;
    }
    const full = Buffer.concat([this.line, buf.subarray(at, nl)]);
    this.line = Buffer.alloc(0);
    const text = full.toString('latin1');
    return { line: text.endsWith('\r') ? text.slice(0, -1) : text, next: nl + 1 };
  }

  private verifyChunk(hashHex: string): boolean {
    if (!this.signing) return true;
    const expected = signV4(this.signing.key, chunkStringToSign(this.signing.amzDate, this.signing.scope, this.previous, hashHex));
    if (!safeEqual(expected, this.chunkSignature)) return false;
    this.previous = expected;
    return true;
  }

  override _transform(buf: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let at = 0;
    while (at < buf.length) {
      if (this.state === 'header' || this.state === 'trailer' || this.state === 'data-crlf') {
        const taken = this.takeLine(buf, at);
        if (!taken) {
          if (this.line.length > MAX_LINE) return this.fail('aws-chunked header line too long', cb);
          break;
        }
        at = taken.next;
        if (this.state === 'data-crlf') {
          if (taken.line !== '') return this.fail('aws-chunked data not followed by CRLF', cb);
          this.state = 'header';
          continue;
        }
        if (this.state === 'trailer') {
          // Trailing checksums (x-amz-checksum-*) are accepted unverified; the body is already
          // covered by the chunk signatures or, when unsigned, by Content-MD5 if sent.
          if (taken.line === '') this.state = 'done';
          continue;
        }
        const [sizeText = '', ...ext] = taken.line.split(';');
        if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText.trim())) return this.fail('malformed aws-chunked chunk size', cb);
        const size = Number.parseInt(sizeText.trim(), 16);
        const sig = ext.map((e) => e.trim()).find((e) => e.startsWith('chunk-signature='));
        this.chunkSignature = sig ? sig.slice('chunk-signature='.length) : '';
        if (this.signing && !this.chunkSignature) return this.fail('chunk signature missing', cb, 'SignatureDoesNotMatch');
        if (size === 0) {
          if (!this.verifyChunk(EMPTY_SHA256)) return this.fail('The final chunk signature does not match.', cb, 'SignatureDoesNotMatch');
          this.state = 'trailer';
          continue;
        }
        this.remaining = size;
        this.chunkHash = this.signing ? createHash('sha256') : undefined;
        this.state = 'data';
        continue;
      }
      if (this.state === 'data') {
        const take = Math.min(this.remaining, buf.length - at);
        const piece = buf.subarray(at, at + take);
        this.chunkHash?.update(piece);
        this.push(piece);
        this.decodedBytes += take;
        this.remaining -= take;
        at += take;
        if (this.remaining === 0) {
          if (this.chunkHash && !this.verifyChunk(this.chunkHash.digest('hex'))) return this.fail('The chunk signature does not match.', cb, 'SignatureDoesNotMatch');
          this.state = 'data-crlf';
        }
        continue;
      }
      // 'done': anything after the terminating chunk is ignored, as S3 does.
      break;
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    // The trailer section may end at EOF without the closing blank line.
    if (this.state !== 'done' && this.state !== 'trailer') return this.fail('The aws-chunked body ended early.', cb);
    cb();
  }
}

/** Collects a small body (XML documents), refusing more than `limit` bytes. */
export async function readSmallBody(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += b.length;
    if (size > limit) throw new S3Error('MalformedXML', 'The XML you provided was larger than the maximum allowed.');
    parts.push(b);
  }
  return Buffer.concat(parts);
}
