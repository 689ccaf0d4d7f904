import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthTokensBody } from './schemas.js';
import { renderToken } from './view.js';
import type { IdentityApi } from '../context.js';
import type { AuthRequest } from '../../managers/auth.js';
import { badRequest, notFound } from '../../../../common/errors.js';
import { authenticate } from '../../../../common/http/auth.js';
import type { TokenData } from '../../managers/tokens.js';

function subjectToken(request: FastifyRequest): string {
  const header = request.headers['x-subject-token'];
  const token = Array.isArray(header) ? header[0] : header;
  if (!token) throw notFound('Could not find token: None.');
  return token.trim();
}

function flag(request: FastifyRequest, name: string): boolean {
  const value = (request.query as Record<string, unknown>)[name];
  return value !== undefined && value !== '0' && String(value).toLowerCase() !== 'false';
}

/** /v3/auth/*: tokens, and the scopes and catalog available to the caller. */
export async function authRoutes(app: FastifyInstance, api: IdentityApi): Promise<void> {
  const { service } = api;

  const catalogFor = async (data: TokenData) => service.catalog.catalogFor(data.project?.id ?? null);

  app.post('/v3/auth/tokens', { schema: { body: AuthTokensBody } }, async (request, reply) => {
    const body = request.body as { auth: AuthRequest };
    const data = await service.auth.authenticate(body.auth);
    const catalog = flag(request, 'nocatalog') ? null : await catalogFor(data);
    reply.code(201).header('x-subject-token', data.token);
    return { token: renderToken(data, catalog) };
  });

  const validateSubject = async (request: FastifyRequest): Promise<TokenData> => {
    const caller = await authenticate(request, service.tokens);
    const subject = await service.tokens.validateData(subjectToken(request), { allowExpired: flag(request, 'allow_expired') });
    api.authorize(request, 'identity:validate_token', { target: { token: { user_id: subject.user.id } }, 'target.token.user_id': subject.user.id });
    void caller;
    return subject;
  };

  // Declared before GET so Fastify doesn't derive its own HEAD route from it.
  app.head('/v3/auth/tokens', async (request, reply) => {
    const data = await validateSubject(request);
    reply.code(200).header('x-subject-token', data.token).send();
  });

  app.get('/v3/auth/tokens', async (request, reply) => {
    const data = await validateSubject(request);
    const catalog = flag(request, 'nocatalog') ? null : await catalogFor(data);
    reply.header('x-subject-token', data.token);
    return { token: renderToken(data, catalog) };
  });

  app.delete('/v3/auth/tokens', async (request, reply) => {
    await authenticate(request, service.tokens);
    const subject = await service.tokens.validateData(subjectToken(request));
    api.authorize(request, 'identity:revoke_token', { target: { token: { user_id: subject.user.id } }, 'target.token.user_id': subject.user.id });
    await service.tokens.revokeToken(subject);
    reply.code(204).send();
  });

  app.get('/v3/auth/catalog', async (request) => {
    const ctx = await authenticate(request, service.tokens);
    if (!ctx.project && !ctx.domain && !ctx.system) throw api.forbiddenUnscoped();
    const catalog = await service.catalog.catalogFor(ctx.project?.id ?? null);
    return { catalog, links: { self: `${api.v3Url(request)}/auth/catalog`, previous: null, next: null } };
  });

  app.get('/v3/auth/projects', async (request) => {
    const ctx = await authenticate(request, service.tokens);
    const ids = await service.assignments.projectIdsWithRoles(ctx.user.id);
    const projects = [];
    for (const id of ids) {
      const row = await service.resource.findProjectRow(id);
      if (row && row.enabled === 1 && row.is_domain === 0) projects.push(await service.resource.getProject(id));
    }
    projects.sort((a, b) => a.name.localeCompare(b.name));
    return { projects: projects.map((p) => api.views.project(request, p)), links: { self: `${api.v3Url(request)}/auth/projects`, previous: null, next: null } };
  });

  app.get('/v3/auth/domains', async (request) => {
    const ctx = await authenticate(request, service.tokens);
    const ids = await service.assignments.domainIdsWithRoles(ctx.user.id);
    const domains = [];
    for (const id of ids) {
      const row = await service.resource.findProjectRow(id);
      if (row && row.enabled === 1 && row.is_domain === 1) domains.push(await service.resource.getDomain(id));
    }
    return { domains: domains.map((d) => api.views.domain(request, d)), links: { self: `${api.v3Url(request)}/auth/domains`, previous: null, next: null } };
  });

  app.get('/v3/auth/system', async (request) => {
    const ctx = await authenticate(request, service.tokens);
    const roles = await service.assignments.effectiveRoles(ctx.user.id, { kind: 'system' });
    return { system: roles.length ? [{ all: true }] : [], links: { self: `${api.v3Url(request)}/auth/system`, previous: null, next: null } };
  });

  void badRequest;
}
