import { header, type SwiftRequest } from './context.js';

export type BulkResult = Record<string, string | number | string[][]>;

/** Bulk middleware reports (bulk delete, extract archive, SLO delete): JSON, XML or plain text per Accept. */
export function bulkResponse(s: SwiftRequest, result: BulkResult): void {
  const accept = (header(s, 'accept') ?? '').toLowerCase();
  let body: string;
  let type: string;
  if (accept.includes('application/json')) {
    body = JSON.stringify(result);
    type = 'application/json';
  } else if (accept.includes('xml')) {
    const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const fields = Object.entries(result).map(([k, v]) => {
      const tag = k.toLowerCase().replace(/ /g, '_');
      if (Array.isArray(v)) return `<${tag}>${v.map((e) => `<object><name>${esc(String(e[0]))}</name><status>${esc(String(e[1]))}</status></object>`).join('')}</${tag}>`;
      return `<${tag}>${esc(String(v))}</${tag}>`;
    });
    body = `<?xml version="1.0" encoding="UTF-8"?>\n<delete>${fields.join('')}</delete>\n`;
    type = 'application/xml';
  } else {
    body = Object.entries(result)
      .map(([k, v]) => (Array.isArray(v) ? `${k}: \n${v.map((e) => `${e[0]}, ${e[1]}`).join('\n')}` : `${k}: ${v}`))
      .join('\n') + '\n';
    type = 'text/plain';
  }
  s.reply.code(200).header('x-trans-id', s.request.id).header('content-type', type).send(body);
}
