import { CloudError, notFound } from '../../../common/errors.js';
import type { IdentityCore } from './core.js';
import type { IdentityService } from '../service.js';

/** A domain's configuration: {group: {option: value}} with JSON values. */
export type DomainConfig = Record<string, Record<string, unknown>>;

/**
 * The options a domain may override and the defaults Keystone reports for them
 * (GET /v3/domains/config/default). identity.list_limit follows our own setting.
 */
const LDAP_DEFAULTS: Record<string, unknown> = {
  url: 'ldap://localhost', user: null, suffix: 'cn=example,cn=com', query_scope: 'one', page_size: 0,
  alias_dereferencing: 'default', debug_level: null, chase_referrals: null, user_tree_dn: null, user_filter: null,
  user_objectclass: 'inetOrgPerson', user_id_attribute: 'cn', user_name_attribute: 'sn', user_mail_attribute: 'mail',
  user_description_attribute: 'description', user_pass_attribute: 'userPassword', user_enabled_attribute: 'enabled',
  user_enabled_invert: false, user_enabled_mask: 0, user_enabled_default: 'True', user_attribute_ignore: ['default_project_id'],
  user_default_project_id_attribute: null, user_enabled_emulation: false, user_enabled_emulation_dn: null,
  user_enabled_emulation_use_group_config: false, user_additional_attribute_mapping: [], group_tree_dn: null, group_filter: null,
  group_objectclass: 'groupOfNames', group_id_attribute: 'cn', group_name_attribute: 'ou', group_members_are_ids: false,
  group_member_attribute: 'member', group_desc_attribute: 'description', group_attribute_ignore: [],
  group_additional_attribute_mapping: [], tls_cacertfile: null, tls_cacertdir: null, use_tls: false, tls_req_cert: 'demand',
  use_pool: true, pool_size: 10, pool_retry_max: 3, pool_retry_delay: 0.1, pool_connection_timeout: -1,
  pool_connection_lifetime: 600, use_auth_pool: true, auth_pool_size: 100, auth_pool_connection_lifetime: 60,
};

const WHITELISTED: Record<string, string[]> = {
  identity: ['driver', 'list_limit'],
  ldap: Object.keys(LDAP_DEFAULTS),
};
/** Stored but never returned by the API (Keystone's sensitive options). */
const SENSITIVE: Record<string, string[]> = { identity: [], ldap: ['password'] };
const READABLE_COMPLIANCE = ['password_regex', 'password_regex_description'];

/** Keystone's InvalidDomainConfig is a 403. */
const invalid = (reason: string): CloudError => new CloudError('forbidden', `Invalid domain specific configuration: ${reason}.`);
const missing = (domainId: string, what: string): CloudError => notFound(`Could not find ${what} in domain configuration for domain ${domainId}.`);
const what = (group?: string, option?: string): string => (option ? `option ${option} in group ${group}` : group ? `group ${group}` : 'any options');

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Domain-specific configuration (/v3/domains/{id}/config), stored in identity_domain_configs. */
export class DomainConfigManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly svc: IdentityService,
  ) {}

  private assertGroupOption(group?: string, option?: string): void {
    if (!group) return;
    if (!(group in WHITELISTED)) throw invalid(`Group ${group} is not supported for domain specific configurations`);
    if (option && !WHITELISTED[group]?.includes(option) && !SENSITIVE[group]?.includes(option)) {
      throw invalid(`Option ${option} in group ${group} is not supported for domain specific configurations`);
    }
  }

  private assertConfig(config: unknown): asserts config is DomainConfig {
    if (!isRecord(config) || Object.keys(config).length === 0) throw invalid('No options specified');
    for (const [group, options] of Object.entries(config)) {
      if (!isRecord(options) || Object.keys(options).length === 0) {
        throw invalid(`The value of group ${group} specified in the config should be a dictionary of options`);
      }
      for (const option of Object.keys(options)) this.assertGroupOption(group, option);
    }
  }

  private async rows(domainId: string, group?: string, option?: string, sensitive?: boolean) {
    let q = this.core.db.selectFrom('identity_domain_configs').selectAll().where('domain_id', '=', domainId);
    if (group) q = q.where('group_name', '=', group);
    if (group && option) q = q.where('option_name', '=', option);
    if (sensitive !== undefined) q = q.where('sensitive', '=', sensitive ? 1 : 0);
    return q.orderBy('group_name').orderBy('option_name').execute();
  }

  private static toConfig(rows: { group_name: string; option_name: string; value: string }[]): DomainConfig {
    const out: DomainConfig = {};
    for (const r of rows) (out[r.group_name] ??= {})[r.option_name] = JSON.parse(r.value) as unknown;
    return out;
  }

  private async write(domainId: string, config: DomainConfig, replaceAll: boolean): Promise<void> {
    await this.core.db.transaction().execute(async (trx) => {
      if (replaceAll) await trx.deleteFrom('identity_domain_configs').where('domain_id', '=', domainId).execute();
      for (const [group, options] of Object.entries(config)) {
        for (const [option, value] of Object.entries(options)) {
          const sensitive = SENSITIVE[group]?.includes(option) ? 1 : 0;
          await trx.deleteFrom('identity_domain_configs').where('domain_id', '=', domainId).where('group_name', '=', group).where('option_name', '=', option).execute();
          await trx.insertInto('identity_domain_configs').values({ domain_id: domainId, group_name: group, option_name: option, value: JSON.stringify(value ?? null), sensitive }).execute();
        }
      }
    });
  }

  /** PUT: replaces the whole config. `created` tells whether the domain had none before (201 vs 200). */
  async create(domainId: string, config: unknown): Promise<{ config: DomainConfig; created: boolean }> {
    await this.svc.resource.getDomain(domainId);
    const created = (await this.rows(domainId)).length === 0;
    this.assertConfig(config);
    await this.write(domainId, config, true);
    return { config: DomainConfigManager.toConfig(await this.rows(domainId, undefined, undefined, false)), created };
  }

  /** GET of the whole config, a group or one option; sensitive options are never shown. */
  async get(domainId: string, group?: string, option?: string): Promise<DomainConfig | Record<string, unknown>> {
    this.assertGroupOption(group, option);
    const rows = await this.rows(domainId, group, option, false);
    if (!rows.length) throw missing(domainId, what(group, option));
    if (option) return { [option]: JSON.parse(rows[0]?.value ?? 'null') as unknown };
    return DomainConfigManager.toConfig(rows);
  }

  /** PATCH: merges options; scoped to a group or option, only that one, which must already exist. */
  async update(domainId: string, body: unknown, group?: string, option?: string): Promise<DomainConfig> {
    await this.svc.resource.getDomain(domainId);
    const config: unknown = group && option ? { [group]: body } : body;
    this.assertConfig(config);
    this.assertGroupOption(group, option);
    if (group) {
      const groupOptions = config[group];
      if (Object.keys(config).length !== 1 || (option && Object.keys(groupOptions ?? {}).length !== 1)) {
        throw invalid(
          option
            ? `Trying to update option ${option} in group ${group}, so that, and only that, option must be specified  in the config`
            : `Trying to update group ${group}, so that, and only that, group must be specified in the config`,
        );
      }
      if (!groupOptions) throw invalid(`request to update group ${group}, but config provided contains group ${Object.keys(config)[0]} instead`);
      if (option && !(option in groupOptions)) {
        throw invalid(`Trying to update option ${option} in group ${group}, but config provided contains option ${Object.keys(groupOptions)[0]} instead`);
      }
      if (!(await this.rows(domainId, group, option)).length) throw missing(domainId, what(group, option));
    }
    await this.write(domainId, config, false);
    return (await this.get(domainId)) as DomainConfig;
  }

  async delete(domainId: string, group?: string, option?: string): Promise<void> {
    await this.svc.resource.getDomain(domainId);
    this.assertGroupOption(group, option);
    if (group && !(await this.rows(domainId, group, option)).length) throw missing(domainId, what(group, option));
    let q = this.core.db.deleteFrom('identity_domain_configs').where('domain_id', '=', domainId);
    if (group) q = q.where('group_name', '=', group);
    if (group && option) q = q.where('option_name', '=', option);
    await q.execute();
  }

  /** GET /v3/domains/config[/{group}[/{option}]]/default: what a domain gets when it overrides nothing. */
  getDefault(group?: string, option?: string): DomainConfig | Record<string, unknown> {
    this.assertGroupOption(group, option);
    const defaults: DomainConfig = {
      identity: { driver: 'sql', list_limit: this.core.config.identity.list_limit ?? null },
      ldap: LDAP_DEFAULTS,
    };
    if (group && option) {
      if (!WHITELISTED[group]?.includes(option)) throw invalid(`Reading the default for option ${option} in group ${group} is not supported`);
      return { [option]: defaults[group]?.[option] ?? null };
    }
    if (group) return { [group]: { ...defaults[group] } };
    return { identity: { ...defaults.identity }, ldap: { ...defaults.ldap } };
  }

  /** The security_compliance group, readable for the default domain only (password rules users must know). */
  getSecurityCompliance(domainId: string, option?: string): Record<string, unknown> {
    if (domainId !== 'default') throw invalid('Reading security compliance information for any domain other than the default domain is not allowed or supported');
    if (option && !READABLE_COMPLIANCE.includes(option)) {
      throw invalid('Reading security compliance values other than password_regex and password_regex_description is not allowed');
    }
    const values: Record<string, unknown> = {
      password_regex: this.core.config.identity.password_regex ?? null,
      password_regex_description: this.core.config.identity.password_regex_description ?? null,
    };
    if (option) return { [option]: values[option] };
    return { security_compliance: values };
  }
}
