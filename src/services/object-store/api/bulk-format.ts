import { PassThrough } from 'node:stream';
import { header, type SwiftRequest } from './context.js';
import { SwiftError, defaultBody, statusLine } from './faults.js';

/** The report formats of Swift's bulk middleware (bulk delete, extract archive, SLO delete). */
export const BULK_FORMATS = ['text/plain', 'application/json', 'application/xml', 'text/xml'] as const;
export type BulkFormat = (typeof BULK_FORMATS)[number];

/**
 * swob's Accept.best_match: the option with the highest q that a media range covers; without an
 * Accept header the first option; null when the header names nothing acceptable.
 */
export function bestMatch<T extends string>(accept: string | undefined, options: readonly T[]): T | null {
  if (accept === undefined || accept.trim() === '') return options[0] ?? null;
  let best: { option: T; q: number } | null = null;
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.trim().split(';');
    const q = Number(params.map((p) => p.trim()).find((p) => p.startsWith('q='))?.slice(2) ?? '1');
    if (!(q > 0)) continue;
    const [major, minor] = range.trim().toLowerCase().split('/');
    for (const option of options) {
      const [om, on] = option.split('/');
      if ((major === '*' || major === om) && (minor === '*' || minor === on) && (!best || q > best.q)) best = { option, q };
    }
  }
  return best?.option ?? null;
}

/** One bulk report: the summary fields (in Swift's order) and the [quoted name, status line] failures. */
export interface BulkReport {
  fields: Record<string, string | number>;
  errors: [string, string][];
}

const xmlEscape = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** bulk.get_response_body: JSON keeps insertion order; XML and plain text sort the keys. */
export function renderBulkBody(format: BulkFormat | null, report: BulkReport, rootTag: 'delete' | 'extract'): string {
  if (format === 'application/json') return JSON.stringify({ ...report.fields, Errors: report.errors });
  const keys = Object.keys(report.fields).sort();
  if (format === 'application/xml' || format === 'text/xml') {
    const fields = keys.map((k) => {
      const tag = k.replace(/ /g, '_').toLowerCase();
      return `<${tag}>${xmlEscape(String(report.fields[k]))}</${tag}>\n`;
    });
    const errors = report.errors.map(([name, status]) => `<object><name>${xmlEscape(name)}</name><status>${xmlEscape(status)}</status></object>\n`);
    return `<${rootTag}>\n${fields.join('')}<errors>\n${errors.join('')}</errors>\n</${rootTag}>\n`;
  }
  const lines = keys.map((k) => `${k}: ${report.fields[k]}\n`);
  return `${lines.join('')}Errors:\n${report.errors.map(([n, st]) => `${n}, ${st}\n`).join('')}`;
}

/** A failure that ends a bulk operation early; it becomes the report's Response Status/Body. */
export function reportFailure(report: BulkReport, err: SwiftError): void {
  report.fields['Response Status'] = statusLine(err.status);
  report.fields['Response Body'] = err.body ?? defaultBody(err.status);
}

const HEARTBEAT_MS = 10_000;

/**
 * Bulk answers are always 200 and the outcome is in the body. A long operation would let the
 * client time out, so, as Swift's yield_frequency does, the answer starts streaming after 10 s
 * and a space goes out every 10 s until the report (after a blank line) ends it. Quick
 * operations get one body with a Content-Length.
 */
export class BulkResponder {
  private stream?: PassThrough;
  private separator = '';
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly s: Pick<SwiftRequest, 'reply' | 'request' | 'headers'>,
    readonly format: BulkFormat | null,
    private readonly rootTag: 'delete' | 'extract',
  ) {
    this.timer = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  static forRequest(s: Pick<SwiftRequest, 'reply' | 'request' | 'headers'>, rootTag: 'delete' | 'extract'): BulkResponder {
    return new BulkResponder(s, bestMatch(header(s, 'accept'), BULK_FORMATS), rootTag);
  }

  private start(): PassThrough {
    const stream = new PassThrough();
    this.stream = stream;
    this.s.reply.code(200).header('x-trans-id', this.s.request.id).header('content-type', this.format ?? 'text/plain').send(stream);
    return stream;
  }

  private beat(): void {
    if (this.stream) {
      this.stream.write(' ');
    } else {
      const xml = this.format === 'application/xml' || this.format === 'text/xml';
      this.start().write(xml ? '<?xml version="1.0" encoding="UTF-8"?>\n' : ' ');
    }
    this.separator = '\r\n\r\n';
  }

  finish(report: BulkReport): void {
    clearInterval(this.timer);
    const body = this.separator + renderBulkBody(this.format, report, this.rootTag);
    if (this.stream) {
      this.stream.end(body);
      return;
    }
    this.s.reply
      .code(200)
      .header('x-trans-id', this.s.request.id)
      .header('content-type', this.format ?? 'text/plain')
      .header('content-length', String(Buffer.byteLength(body)))
      .send(body);
  }
}

/** Swift's wsgi_quote (urllib quote, "/" kept): how bulk reports name objects. */
export function swiftQuote(name: string): string {
  return encodeURIComponent(name)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, '/');
}
