import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { badRequest, CloudError, conflict, notFound, unauthorized } from '../../../common/errors.js';
import { hexId } from '../../../common/ids.js';
import { isoMicro } from '../../../common/db/time.js';
import type { AuthContext } from '../../../common/auth/index.js';
import { parseJson, type CredentialRow } from '../store/tables.js';
import type { Role } from '../model/types.js';
import { notify, type IdentityCore } from './core.js';
import { isUniqueViolation } from './catalog.js';
import { CredentialCipher } from './credential-keys.js';
import {
  computeS3Signature,
  EC2_AUTH_TTL_MS,
  ec2SignatureMatches,
  requestTimestamp,
  safeEqual,
  SignatureFormatError,
  type Ec2Request,
} from './ec2-signature.js';
import type { IdentityService } from '../service.js';

export type { Ec2Request } from './ec2-signature.js';

export interface Credential {
  id: string;
  userId: string;
  projectId: string | null;
  type: string;
  /** Plaintext, as the API shows it (a JSON string for ec2). */
  blob: string;
  extra: Record<string, unknown>;
}

export interface CredentialInput {
  userId?: string;
  projectId?: string | null;
  type?: string;
  blob?: string;
  extra?: Record<string, unknown>;
}

/** An EC2 credential in the OS-EC2 API's shape. */
export interface Ec2Credential {
  userId: string;
  projectId: string | null;
  access: string;
  secret: string;
  trustId: string | null;
}

/** Who a correctly signed EC2/S3 request acts as. */
export interface Ec2Identity {
  userId: string;
  projectId: string;
  /** Effective roles of the user on the project. */
  roles: Role[];
  access: string;
}

const EC2 = 'ec2';
/** Attributes of an ec2 blob that bind it to a delegation; they may never change. */
const BOUND_KEYS = ['trust_id', 'app_cred_id', 'access_token_id', 'access_id'] as const;
/** Methods that prove the user's own identity; anything else (app creds, oauth1, ec2) is delegated. */
const PRIMARY_METHODS = new Set(['external', 'kerberos', 'mapped', 'openid', 'password', 'saml2', 'token', 'totp', 'x509']);

/** Keystone's rule: an EC2 credential's id is the sha256 of its access key. */
export function ec2CredentialId(access: string): string {
  return createHash('sha256').update(access, 'utf8').digest('hex');
}

/**
 * Keystone (since LP#2159643) keeps delegated tokens away from credentials: a
 * trust-scoped token, or one from an application credential, OAuth1 or EC2, could
 * otherwise mint long-lived secrets that outlive the delegation.
 */
export function isDelegated(ctx: AuthContext): boolean {
  return Boolean(ctx.trustId) || ctx.methods.length === 0 || ctx.methods.some((m) => !PRIMARY_METHODS.has(m));
}

const invalidAttr = (attribute: string, target: string) =>
  badRequest(`Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`);

/** An ec2 blob must be a JSON object with an access key. */
function parseEc2Blob(blob: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(blob);
  } catch {
    throw badRequest('Invalid blob in credential');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length === 0) throw invalidAttr('blob', 'credential');
  const record = parsed as Record<string, unknown>;
  if (record.access === undefined || record.access === null) throw invalidAttr('access', 'credential');
  return record;
}

/** Request bodies are untrusted JSON: anything of the wrong type counts as absent. */
function normalizeEc2Request(raw: Ec2Request): Ec2Request {
  const r = raw as unknown as Record<string, unknown>;
  const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const obj = (v: unknown): Record<string, unknown> | undefined =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  return {
    access: s(r.access) ?? '',
    signature: s(r.signature),
    host: s(r.host),
    verb: s(r.verb),
    path: s(r.path),
    params: obj(r.params),
    headers: obj(r.headers),
    body_hash: s(r.body_hash),
  };
}

/** Credentials (/v3/credentials) including EC2 credentials and ec2tokens/s3tokens signature checks. */
export class CredentialManager {
  private readonly cipher: CredentialCipher;

  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {
    this.cipher = new CredentialCipher(join(core.config.server.data_dir, 'credential-keys'));
    // Keystone removes a user's or project's credentials with it.
    core.events.subscribe('identity.user.deleted', (n) => this.deleteWhere('user_id', n.payload.resource_info));
    core.events.subscribe('identity.project.deleted', (n) => this.deleteWhere('project_id', n.payload.resource_info));
  }

  private fromRow(row: CredentialRow): Credential {
    let blob: string;
    try {
      blob = this.cipher.decrypt(row.encrypted_blob, row.id);
    } catch (err) {
      // Only the reason, never the ciphertext or key material.
      this.core.log.error({ credential_id: row.id, reason: (err as Error).message }, 'credential blob cannot be decrypted');
      throw new CloudError('internal', 'An unexpected error prevented the server from fulfilling your request.');
    }
    return { id: row.id, userId: row.user_id, projectId: row.project_id, type: row.type, blob, extra: parseJson(row.extra) };
  }

  async create(input: CredentialInput & { userId: string; type: string; blob: string }): Promise<Credential> {
    let id = hexId();
    if (input.type === EC2) {
      const parsed = parseEc2Blob(input.blob);
      if (!input.projectId) throw badRequest("Invalid input for field 'project_id': an ec2 credential requires project_id");
      id = ec2CredentialId(String(parsed.access));
    }
    const row: CredentialRow = {
      id,
      user_id: input.userId,
      project_id: input.projectId ?? null,
      type: input.type,
      encrypted_blob: this.cipher.encrypt(input.blob, id),
      extra: JSON.stringify(input.extra ?? {}),
      created_at: isoMicro(this.core.clock.now()),
    };
    const duplicate = conflict('Conflict occurred attempting to store credential - Duplicate entry.');
    if (await this.find(id)) throw duplicate;
    try {
      await this.core.db.insertInto('identity_credentials').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicate;
      throw err;
    }
    notify(this.core, 'credential', 'created', id);
    return { id, userId: row.user_id, projectId: row.project_id, type: row.type, blob: input.blob, extra: input.extra ?? {} };
  }

  async find(id: string): Promise<Credential | undefined> {
    const row = await this.core.db.selectFrom('identity_credentials').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? this.fromRow(row) : undefined;
  }

  async get(id: string): Promise<Credential> {
    const credential = await this.find(id);
    if (!credential) throw notFound(`Could not find credential: ${id}.`);
    return credential;
  }

  async list(filters: { userId?: string; type?: string } = {}): Promise<Credential[]> {
    let query = this.core.db.selectFrom('identity_credentials').selectAll();
    if (filters.userId !== undefined) query = query.where('user_id', '=', filters.userId);
    if (filters.type !== undefined) query = query.where('type', '=', filters.type);
    return (await query.orderBy('created_at').orderBy('id').execute()).map((r) => this.fromRow(r));
  }

  /**
   * Stock Keystone Zed lets an update change project_id, type and user_id too (the
   * policy check on the result happens in the API layer). The result must still be a
   * valid credential, and an ec2 blob may not change its delegation attributes.
   */
  async update(id: string, patch: CredentialInput): Promise<Credential> {
    const current = await this.get(id);
    const next: Credential = {
      id,
      userId: patch.userId ?? current.userId,
      projectId: patch.projectId === undefined ? current.projectId : patch.projectId,
      type: patch.type ?? current.type,
      blob: patch.blob ?? current.blob,
      extra: { ...current.extra, ...patch.extra },
    };
    if (next.type === EC2) {
      const blob = parseEc2Blob(next.blob);
      if (!next.projectId) throw badRequest("Invalid input for field 'project_id': an ec2 credential requires project_id");
      if (current.type === EC2) {
        const old = parseJson(current.blob);
        for (const key of BOUND_KEYS) {
          if ((old[key] ?? null) !== (blob[key] ?? null)) throw badRequest(`${key} can not be updated for credential`);
        }
      }
    }
    await this.core.db
      .updateTable('identity_credentials')
      .set({
        user_id: next.userId,
        project_id: next.projectId,
        type: next.type,
        encrypted_blob: this.cipher.encrypt(next.blob, id),
        extra: JSON.stringify(next.extra),
      })
      .where('id', '=', id)
      .execute();
    notify(this.core, 'credential', 'updated', id);
    return next;
  }

  async delete(id: string): Promise<void> {
    await this.get(id);
    await this.core.db.deleteFrom('identity_credentials').where('id', '=', id).execute();
    notify(this.core, 'credential', 'deleted', id);
  }

  private async deleteWhere(column: 'user_id' | 'project_id', value: unknown): Promise<void> {
    if (typeof value !== 'string' || !value) return;
    await this.core.db.deleteFrom('identity_credentials').where(column, '=', value).execute();
  }

  // ---- OS-EC2 ----

  private toEc2(credential: Credential): Ec2Credential {
    const blob = parseJson(credential.blob);
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    return { userId: credential.userId, projectId: credential.projectId, access: str(blob.access) ?? '', secret: str(blob.secret) ?? '', trustId: str(blob.trust_id) };
  }

  /** POST /v3/users/{user_id}/credentials/OS-EC2: fresh access and secret keys for a project. */
  async createEc2(userId: string, projectId: string | null | undefined): Promise<Ec2Credential> {
    await this.requireUser(userId);
    const project = projectId ? await this.svc.resource.findProjectRow(projectId) : undefined;
    if (!project || project.is_domain === 1) throw notFound(`Could not find project: ${projectId ?? 'None'}.`);
    const access = randomUUID().replaceAll('-', '');
    const secret = randomUUID().replaceAll('-', '');
    const blob = JSON.stringify({ access, secret, trust_id: null });
    const credential = await this.create({ userId, projectId: project.id, type: EC2, blob });
    return this.toEc2(credential);
  }

  async listEc2(userId: string): Promise<Ec2Credential[]> {
    await this.requireUser(userId);
    return (await this.list({ userId, type: EC2 })).map((c) => this.toEc2(c));
  }

  /** The raw credential behind an access key (for policy targets); 404 when there is none. */
  async getEc2Credential(access: string): Promise<Credential> {
    const credential = await this.get(ec2CredentialId(access));
    if (credential.type !== EC2) throw unauthorized('EC2 access key not found.');
    return credential;
  }

  async getEc2(userId: string, access: string): Promise<Ec2Credential> {
    await this.requireUser(userId);
    return this.toEc2(await this.getEc2Credential(access));
  }

  async deleteEc2(userId: string, access: string): Promise<void> {
    await this.requireUser(userId);
    const credential = await this.getEc2Credential(access);
    await this.delete(credential.id);
  }

  private async requireUser(userId: string): Promise<void> {
    if (!(await this.svc.users.findRow(userId))) throw notFound(`Could not find user: ${userId}.`);
  }

  // ---- signature checks (ec2tokens, s3tokens, and Swift's S3 API in-process) ----

  /**
   * Checks an EC2-style signed request (signature versions 0, 1, 2 and 4) against the
   * secret of its access key, then that the user and project are enabled and the user
   * has a role on the project. Every failure is a 401.
   */
  async verifyEc2Signature(raw: Ec2Request): Promise<Ec2Identity> {
    const request = normalizeEc2Request(raw);
    if (!request.access) throw unauthorized('EC2 Signature not supplied');
    const { credential, secret } = await this.secretFor(request.access);
    if (!request.signature) throw unauthorized('EC2 signature not supplied.');
    let matches: boolean;
    try {
      matches = ec2SignatureMatches(secret, request);
    } catch (err) {
      if (err instanceof SignatureFormatError) throw unauthorized('Invalid EC2 signature.');
      throw err;
    }
    if (!matches) throw unauthorized('Invalid EC2 signature.');
    const identity = await this.identityFor(credential, request.access);
    this.checkTimestamp(request);
    return identity;
  }

  /** Swift s3api's form: the string-to-sign (base64url `token`) and the signature it carried. */
  async verifyS3Signature(request: { access: string; token: string; signature: string }): Promise<Ec2Identity> {
    if (typeof request.access !== 'string' || !request.access) throw unauthorized('EC2 Signature not supplied');
    if (typeof request.token !== 'string') throw unauthorized('Invalid EC2 signature.');
    const { credential, secret } = await this.secretFor(request.access);
    let expected: string;
    try {
      expected = computeS3Signature(secret, Buffer.from(request.token, 'base64url'));
    } catch (err) {
      if (err instanceof SignatureFormatError) throw unauthorized('Invalid EC2 signature.');
      throw err;
    }
    if (typeof request.signature !== 'string' || !safeEqual(request.signature, expected)) throw unauthorized('Credential signature mismatch');
    return this.identityFor(credential, request.access);
  }

  /**
   * The secret and identity behind an access key, for an S3 API that checks signatures itself
   * (s3token's secret cache, in-process). null wherever verifyS3Signature would answer 401.
   */
  async ec2SecretFor(access: string): Promise<{ secret: string; userId: string; projectId: string; roles: string[] } | null> {
    if (typeof access !== 'string' || !access) return null;
    try {
      const { credential, secret } = await this.secretFor(access);
      const identity = await this.identityFor(credential, access);
      return { secret, userId: identity.userId, projectId: identity.projectId, roles: identity.roles.map((r) => r.name) };
    } catch (err) {
      if (err instanceof CloudError && err.kind === 'unauthorized') return null;
      throw err;
    }
  }

  private async secretFor(access: string): Promise<{ credential: Credential; secret: string }> {
    const credential = await this.find(ec2CredentialId(access));
    if (!credential || credential.type !== EC2) throw unauthorized('EC2 access key not found.');
    const secret = parseJson(credential.blob).secret;
    if (typeof secret !== 'string' || !secret) throw unauthorized('EC2 access key not found.');
    return { credential, secret };
  }

  private async identityFor(credential: Credential, access: string): Promise<Ec2Identity> {
    const projectId = credential.projectId;
    const user = await this.svc.users.findRow(credential.userId);
    const project = projectId ? await this.svc.resource.findProjectRow(projectId) : undefined;
    if (!user || user.enabled !== 1 || !project || project.enabled !== 1 || project.is_domain === 1 || !projectId) throw unauthorized();
    const domain = await this.svc.resource.findProjectRow(project.domain_id);
    const userDomain = await this.svc.resource.findProjectRow(user.domain_id);
    if (!domain || domain.enabled !== 1 || !userDomain || userDomain.enabled !== 1) throw unauthorized();
    const roles = await this.svc.assignments.effectiveRoles(user.id, { kind: 'project', projectId });
    if (roles.length === 0) throw unauthorized('User not valid for project.');
    return { userId: user.id, projectId, roles, access };
  }

  private checkTimestamp(request: Ec2Request): void {
    let at: Date | null;
    try {
      at = requestTimestamp(request);
    } catch (err) {
      if (err instanceof SignatureFormatError) throw unauthorized(err.message);
      throw err;
    }
    if (at && this.core.clock.now().getTime() > at.getTime() + EC2_AUTH_TTL_MS) throw unauthorized('Credential is expired');
  }
}
