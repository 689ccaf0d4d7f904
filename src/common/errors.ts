/**
 * Domain errors know nothing of HTTP bodies: each service's api/faults.ts renders
 * them in its own OpenStack fault format. `kind` is the stable, machine-readable
 * class of failure and implies the status code.
 */
export type ErrorKind =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'not_acceptable'
  | 'conflict'
  | 'gone'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'too_many_requests'
  | 'not_implemented'
  | 'service_unavailable'
  | 'internal';

export const STATUS_OF_KIND: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  not_acceptable: 406,
  conflict: 409,
  gone: 410,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  too_many_requests: 429,
  not_implemented: 501,
  service_unavailable: 503,
  internal: 500,
};

export class CloudError extends Error {
  override name = 'CloudError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Extra fields some fault formats carry (e.g. Keystone's identity.auth.methods on 401). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
  get status(): number {
    return STATUS_OF_KIND[this.kind];
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>) => new CloudError('bad_request', message, details);
export const unauthorized = (message = 'The request you have made requires authentication.', details?: Record<string, unknown>) =>
  new CloudError('unauthorized', message, details);
export const forbidden = (message = 'You are not authorized to perform the requested action.') => new CloudError('forbidden', message);
export const notFound = (message: string) => new CloudError('not_found', message);
export const conflict = (message: string) => new CloudError('conflict', message);
export const notImplemented = (message = 'The action you have requested has not been implemented.') => new CloudError('not_implemented', message);

/** Errors raised by Fastify itself (bad JSON, body too large, wrong content type) mapped to domain kinds. */
export function fromFrameworkError(err: unknown): CloudError | null {
  if (err instanceof CloudError) return err;
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; validation?: unknown };
  const message = typeof e.message === 'string' ? e.message : 'Bad request';
  if (e.validation) return new CloudError('bad_request', message);
  const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
  switch (status) {
    case 400: return new CloudError('bad_request', message);
    case 404: return new CloudError('not_found', message);
    case 405: return new CloudError('method_not_allowed', message);
    case 406: return new CloudError('not_acceptable', message);
    case 413: return new CloudError('payload_too_large', message);
    case 415: return new CloudError('unsupported_media_type', message);
    default: return null;
  }
}
