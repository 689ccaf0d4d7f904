import type { FastifyInstance } from 'fastify';
import { badRequest } from '../errors.js';

/**
 * OpenStack services read JSON whatever the Content-Type says (many clients send
 * application/json on GET/DELETE with an empty body): parse any body as JSON and
 * treat an empty one as no body.
 */
export function acceptJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text) as unknown);
    } catch {
      done(badRequest('Malformed JSON in request body.'), undefined);
    }
  });
}
