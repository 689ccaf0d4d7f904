import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CloudError, fromFrameworkError } from '../../../common/errors.js';

const STATUS_LINE: Record<number, string> = {
  300: 'Multiple Choices',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

type Format = 'html' | 'json' | 'plain';

/** webob picks the first of text/html, application/json the Accept header allows; neither: text/plain. */
export function negotiate(accept: string | undefined): Format {
  if (accept === undefined || accept.trim() === '') return 'html';
  const offers = accept.split(',').map((part) => {
    const [type = '', ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return { type: type.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1 };
  });
  const quality = (mime: string) => Math.max(0, ...offers.filter((o) => o.type === mime || o.type === '*/*' || o.type === `${mime.split('/')[0]}/*`).map((o) => o.q));
  const html = quality('text/html');
  const json = quality('application/json');
  if (html === 0 && json === 0) return 'plain';
  return json > html ? 'json' : 'html';
}

/**
 * Glance's faults are webob HTTPExceptions: an HTML page by default, JSON
 * {"message", "code": "404 Not Found", "title"} when the client prefers JSON, else plain text.
 * 401 comes from keystonemiddleware in Glance and keeps its Keystone-style JSON body.
 */
export function sendGlanceFault(request: FastifyRequest, reply: FastifyReply, status: number, explanation: string): FastifyReply {
  const title = STATUS_LINE[status] ?? 'Error';
  const statusLine = `${status} ${title}`;
  if (status === 401) {
    const host = request.headers.host ?? 'localhost';
    reply.header('www-authenticate', `Keystone uri="${request.protocol}://${host}/identity"`);
    return reply.code(401).type('application/json').send({ error: { code: 401, title, message: explanation } });
  }
  const format = negotiate(request.headers.accept);
  const body = `${escapeHtml(explanation)}<br /><br />\n\n\n`;
  reply.code(status);
  if (format === 'json') return reply.type('application/json').send({ message: body, code: statusLine, title });
  if (format === 'plain') return reply.type('text/plain; charset=UTF-8').send(`${statusLine}\n\n${explanation}\n\n\n  `);
  return reply
    .type('text/html; charset=UTF-8')
    .send(`<html>\n <head>\n  <title>${statusLine}</title>\n </head>\n <body>\n  <h1>${statusLine}</h1>\n  ${body}\n </body>\n</html>`);
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

export function registerImageFaults(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | CloudError, request: FastifyRequest, reply: FastifyReply) => {
    const cloudError = fromFrameworkError(err);
    if (!cloudError) {
      request.log.error({ err }, 'unhandled error in image');
      return sendGlanceFault(request, reply, 500, 'The server has either erred or is incapable of performing the requested operation.');
    }
    // Range errors carry their own status (416) and the size for Content-Range.
    const status = typeof cloudError.details.status === 'number' ? cloudError.details.status : cloudError.status;
    if (status === 416 && typeof cloudError.details.size === 'number') reply.header('content-range', `bytes */${cloudError.details.size}`);
    return sendGlanceFault(request, reply, status, cloudError.message);
  });
  app.setNotFoundHandler((request, reply) => sendGlanceFault(request, reply, 404, 'The resource could not be found.'));
}
