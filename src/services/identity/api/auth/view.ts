import { isoMicro } from '../../../../common/db/time.js';
import type { CatalogService } from '../../model/types.js';
import type { TokenData } from '../../managers/tokens.js';

/** The `token` object of Keystone's auth responses. */
export function renderToken(data: TokenData, catalog: CatalogService[] | null): Record<string, unknown> {
  const token: Record<string, unknown> = {
    methods: data.methods,
    user: {
      domain: { id: data.user.domainId, name: data.user.domainName },
      id: data.user.id,
      name: data.user.name,
      password_expires_at: data.user.passwordExpiresAt ? isoMicro(data.user.passwordExpiresAt) : null,
    },
    audit_ids: data.auditIds,
    expires_at: isoMicro(data.expiresAt),
    issued_at: isoMicro(data.issuedAt),
  };
  if (data.project) {
    token.project = { domain: { id: data.project.domainId, name: data.project.domainName }, id: data.project.id, name: data.project.name };
    token.is_domain = false;
  }
  if (data.domain) token.domain = { id: data.domain.id, name: data.domain.name };
  if (data.system) token.system = { all: true };
  if (data.project || data.domain || data.system) {
    token.roles = data.roles.map((r) => ({ id: r.id, name: r.name }));
    if (catalog) token.catalog = catalog;
  }
  if (data.project) token.is_admin_project = data.isAdminProject;
  if (data.trust) {
    token['OS-TRUST:trust'] = {
      id: data.trust.id,
      impersonation: data.trust.impersonation,
      trustee_user: { id: data.trust.trusteeUserId },
      trustor_user: { id: data.trust.trustorUserId },
    };
  }
  if (data.appCred) {
    const appCred: Record<string, unknown> = { id: data.appCred.id, name: data.appCred.name, restricted: data.appCred.restricted };
    if (data.appCred.accessRules) appCred.access_rules = data.appCred.accessRules;
    token.application_credential = appCred;
  }
  return token;
}
