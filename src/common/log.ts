import pino, { type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout. Secrets never reach here: request bodies are not logged and auth headers are redacted. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { svc: 'nubes' },
      redact: {
        paths: ['req.headers["x-auth-token"]', 'req.headers["x-subject-token"]', 'req.headers.authorization', '*.password', '*.secret'],
        censor: '***',
      },
    },
    destination ?? pino.destination({ sync: false }),
  );
}
