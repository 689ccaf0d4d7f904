import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CloudError, fromFrameworkError } from '../../../common/errors.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** Keystone's fault body: {"error": {"code", "title", "message"}} (+ identity details on 401). */
export function keystoneFault(status: number, message: string, details: Record<string, unknown> = {}): Record<string, unknown> {
  return { error: { code: status, title: TITLES[status] ?? 'Error', message, ...details } };
}

export function registerIdentityFaults(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | CloudError, request: FastifyRequest, reply: FastifyReply) => {
    const cloudError = fromFrameworkError(err);
    if (!cloudError) {
      request.log.error({ err }, 'unhandled error in identity');
      return reply.code(500).send(keystoneFault(500, 'An unexpected error prevented the server from fulfilling your request.'));
    }
    const status = cloudError.status;
    if (status === 401) reply.header('www-authenticate', 'Keystone uri="' + identityUri(request) + '"');
    const message = cloudError.kind === 'bad_request' && 'validation' in err ? validationMessage(err as FastifyError) : cloudError.message;
    return reply.code(status).send(keystoneFault(status, message, cloudError.details));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(keystoneFault(404, `The resource could not be found.`));
  });
}

function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return err.message;
  const field = first.instancePath ? first.instancePath.replace(/^\//, '').replaceAll('/', '.') : String(first.params?.missingProperty ?? first.params?.additionalProperty ?? '');
  return `Invalid input for field '${field}': ${first.message ?? 'is invalid'}`;
}

function identityUri(request: FastifyRequest): string {
  const host = request.headers.host ?? 'localhost';
  return `${request.protocol}://${host}/identity`;
}
