import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fromFrameworkError } from '../../../common/errors.js';
import { StorageError } from '../storage/types.js';

/** Swift's reason phrases and default explanations (swob.RESPONSE_REASONS). */
const REASONS: Record<number, [string, string]> = {
  200: ['OK', ''],
  201: ['Created', ''],
  202: ['Accepted', 'The request is accepted for processing.'],
  204: ['No Content', ''],
  301: ['Moved Permanently', 'The resource has moved permanently.'],
  303: ['See Other', 'The response to the request can be found under a different URI.'],
  307: ['Temporary Redirect', 'The resource has moved temporarily.'],
  400: ['Bad Request', 'The server could not comply with the request since it is either malformed or otherwise incorrect.'],
  401: ['Unauthorized', 'This server could not verify that you are authorized to access the document you requested.'],
  403: ['Forbidden', 'Access was denied to this resource.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'The method is not allowed for this resource.'],
  406: ['Not Acceptable', 'The resource is not available in a format acceptable to your browser.'],
  408: ['Request Timeout', 'The server has waited too long for the request to be sent by the client.'],
  409: ['Conflict', 'There was a conflict when trying to complete your request.'],
  411: ['Length Required', 'Content-Length header required.'],
  412: ['Precondition Failed', 'A precondition for this request was not met.'],
  413: ['Request Entity Too Large', 'The body of your request was too large for this server.'],
  414: ['Request URI Too Long', 'The request URI was too long for this server.'],
  415: ['Unsupported Media Type', 'The request media type is not supported by this server.'],
  416: ['Requested Range Not Satisfiable', 'The Range requested is not available.'],
  422: ['Unprocessable Entity', 'Unable to process the contained instructions'],
  499: ['Client Disconnect', 'The client was disconnected during request.'],
  500: ['Internal Error', 'The server has either erred or is incapable of performing the requested operation.'],
  501: ['Not Implemented', 'The requested method is not implemented by this server.'],
  502: ['Bad Gateway', 'Bad gateway.'],
  503: ['Service Unavailable', 'The server is currently unavailable. Please try again at a later time.'],
  507: ['Insufficient Storage', 'There was not enough space to save the resource.'],
};

/** Swift's status line ("404 Not Found"), as bulk and FormPOST reports quote it. */
export function statusLine(status: number): string {
  return `${status} ${REASONS[status]?.[0] ?? 'Unknown'}`;
}

/** Swift's default body for a status: "<html><h1>Title</h1><p>Explanation</p></html>". */
export function defaultBody(status: number): string {
  const reason = REASONS[status];
  return reason && reason[1] ? `<html><h1>${reason[0]}</h1><p>${reason[1]}</p></html>` : '';
}

/**
 * An HTTP answer a Swift handler gives up with: status, optional explicit body (Swift's
 * constraint messages are plain sentences) and extra headers (Content-Range on 416, ...).
 */
export class SwiftError extends Error {
  override name = 'SwiftError';
  constructor(
    readonly status: number,
    readonly body?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(body ?? REASONS[status]?.[0] ?? `HTTP ${status}`);
  }
}

export const swiftError = (status: number, body?: string, headers?: Record<string, string>): SwiftError => new SwiftError(status, body, headers);

/** Maps cluster failures to what Swift's proxy answers for them. */
export function fromStorageError(err: StorageError): SwiftError {
  switch (err.kind) {
    case 'etag_mismatch': return swiftError(422);
    case 'too_large': return swiftError(413, 'Your request is too large.');
    case 'length_mismatch': return swiftError(499);
    case 'client_disconnect': return swiftError(499);
    case 'insufficient_storage': return swiftError(503);
    case 'not_found': return swiftError(404);
    case 'conflict': return swiftError(409);
  }
}

/** Writes a Swift fault: text/html body (none on HEAD), X-Trans-Id like every answer. */
export function sendFault(request: FastifyRequest, reply: FastifyReply, status: number, body?: string, headers: Record<string, string> = {}): FastifyReply {
  const text = body ?? defaultBody(status);
  reply.code(status);
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  reply.header('x-trans-id', request.id);
  reply.header('content-type', 'text/html; charset=UTF-8');
  if (request.method === 'HEAD') return reply.header('content-length', String(Buffer.byteLength(text))).send();
  return reply.send(text);
}

export function registerSwiftFaults(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof SwiftError) return sendFault(request, reply, err.status, err.body, err.headers);
    if (err instanceof StorageError) {
      const e = fromStorageError(err);
      return sendFault(request, reply, e.status, e.body, e.headers);
    }
    const cloudError = fromFrameworkError(err);
    if (cloudError && cloudError.status < 500) {
      const headers: Record<string, string> = {};
      if (cloudError.status === 401) headers['www-authenticate'] = `Keystone uri="${request.protocol}://${request.headers.host ?? 'localhost'}/identity"`;
      return sendFault(request, reply, cloudError.status, undefined, headers);
    }
    request.log.error({ err }, 'unhandled error in object-store');
    return sendFault(request, reply, 500);
  });
  app.setNotFoundHandler((request, reply) => sendFault(request, reply, 404));
}
