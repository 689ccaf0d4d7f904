/** Named rules, operator overrides and scope checking on top of the check evaluator. */
import { evaluate, formatCheck, referencedRules, type Check, type ResolvedRule } from './check.js';
import { parseRule, PolicyParseError } from './parser.js';
import type { PolicyCredentials, PolicyTarget, RuleDefault, ScopeType } from './types.js';

export interface PolicyEnforcerOptions {
  /** Operator rules (policy.yaml), by name; they win over defaults, including ones registered later. */
  overrides?: Record<string, string>;
  /** Deny a token whose scope is not in the rule's scopeTypes. Off by default, as in oslo before 2024. */
  enforceScope?: boolean;
  /** Stop honouring deprecated check strings (see RuleDefault.deprecatedRule). On by default. */
  enforceNewDefaults?: boolean;
}

/** oslo's policy_default_rule: what an unknown rule name falls back to. */
const DEFAULT_RULE = 'default';

export class PolicyEnforcer {
  readonly #defaults = new Map<string, RuleDefault>();
  readonly #overrides = new Map<string, Check>();
  /** Effective parsed rule for every known name: parse once, evaluate many times. */
  readonly #rules = new Map<string, Check>();
  readonly #enforceScope: boolean;
  readonly #enforceNewDefaults: boolean;

  constructor(defaults: RuleDefault[], opts: PolicyEnforcerOptions = {}) {
    this.#enforceScope = opts.enforceScope ?? false;
    this.#enforceNewDefaults = opts.enforceNewDefaults ?? true;
    for (const [name, checkStr] of Object.entries(opts.overrides ?? {})) {
      const check = parseNamed(name, checkStr, 'override');
      this.#overrides.set(name, check);
      this.#rules.set(name, check);
    }
    this.register(defaults);
  }

  /** true when allowed. An unknown rule uses the "default" rule if there is one, else denies. */
  enforce(rule: string, creds: PolicyCredentials, target: PolicyTarget = {}): boolean {
    const resolved = this.#resolve(rule);
    if (resolved === undefined) return false;
    if (!this.#scopeAllows(rule, creds)) return false;
    const resolve = (name: string): ResolvedRule | undefined => this.#resolve(name);
    return evaluate(resolved.check, { creds, target, resolve }, new Set([resolved.name]));
  }

  /**
   * Adds defaults; each service registers its own. All-or-nothing: a duplicate name (a bug, as
   * in oslo) or a bad check string throws and leaves the enforcer unchanged.
   */
  register(defaults: RuleDefault[]): void {
    const batch = new Map<string, RuleDefault>();
    for (const d of defaults) {
      if (this.#defaults.has(d.name) || batch.has(d.name)) {
        throw new Error(`policy rule "${d.name}" is registered twice`);
      }
      batch.set(d.name, copyDefault(d));
    }
    const effective = [...batch.values()].map((d) => [d, this.#effective(d)] as const);
    for (const [d, check] of effective) {
      this.#defaults.set(d.name, d);
      this.#rules.set(d.name, check);
    }
  }

  /** Registered defaults in registration order, as services declared them (for docs and samples). */
  listRules(): RuleDefault[] {
    return [...this.#defaults.values()].map(copyDefault);
  }

  /** Every rule in force, overrides applied, in canonical form (for `policy-list`-style output). */
  effectiveRules(): Record<string, string> {
    return Object.fromEntries([...this.#rules].map(([name, check]) => [name, formatCheck(check)]));
  }

  /**
   * Mistakes worth a startup warning, like oslo's check_rules: `rule:` references to undefined
   * rules (they silently fall back to "default") and `rule:` cycles (they deny).
   */
  checkRules(): string[] {
    const problems: string[] = [];
    for (const [name, check] of this.#rules) {
      for (const ref of new Set(referencedRules(check))) {
        if (!this.#rules.has(ref)) problems.push(`policy rule "${name}" references undefined rule "${ref}"`);
      }
      if (this.#reaches(name, name, new Set())) problems.push(`policy rule "${name}" is part of a rule: cycle`);
    }
    return problems;
  }

  #reaches(from: string, goal: string, seen: Set<string>): boolean {
    const check = this.#rules.get(from);
    if (check === undefined) return false;
    for (const ref of referencedRules(check)) {
      if (ref === goal) return true;
      if (seen.has(ref)) continue;
      seen.add(ref);
      if (this.#reaches(ref, goal, seen)) return true;
    }
    return false;
  }

  #resolve(name: string): ResolvedRule | undefined {
    const check = this.#rules.get(name);
    if (check !== undefined) return { name, check };
    const fallback = this.#rules.get(DEFAULT_RULE);
    return fallback === undefined ? undefined : { name: DEFAULT_RULE, check: fallback };
  }

  /** Scope applies to the rule asked for, not to rules it references, as in oslo. */
  #scopeAllows(rule: string, creds: PolicyCredentials): boolean {
    const scopeTypes = this.#defaults.get(rule)?.scopeTypes;
    if (!this.#enforceScope || scopeTypes === undefined || scopeTypes.length === 0) return true;
    const scope = tokenScope(creds);
    return scope !== undefined && scopeTypes.includes(scope);
  }

  /** The check in force for a default, following oslo's handling of overrides and deprecations. */
  #effective(d: RuleDefault): Check {
    const own = this.#overrides.get(d.name);
    if (own !== undefined) return own;
    const check = parseNamed(d.name, d.checkStr, 'default');
    const dep = d.deprecatedRule;
    if (dep === undefined) return check;
    const old = parseNamed(dep.name, dep.checkStr, `deprecated rule of "${d.name}"`);
    // An operator who customised the old name keeps that policy under the new name, so renaming a
    // rule never widens access on upgrade. `rule:<new name>` is the alias sample files write; skip it.
    const oldOverride = dep.name === d.name ? undefined : this.#overrides.get(dep.name);
    if (
      oldOverride !== undefined &&
      formatCheck(oldOverride) !== formatCheck(old) &&
      formatCheck(oldOverride) !== `rule:${d.name}`
    ) {
      return oldOverride;
    }
    if (!this.#enforceNewDefaults && dep.checkStr !== d.checkStr) return { kind: 'or', operands: [check, old] };
    return check;
  }
}

/** Which scope a token has; undefined for an unscoped token, which no scoped rule admits. */
function tokenScope(creds: PolicyCredentials): ScopeType | undefined {
  if (nonEmpty(creds.system_scope)) return 'system';
  if (nonEmpty(creds.domain_id)) return 'domain';
  if (nonEmpty(creds.project_id)) return 'project';
  return undefined;
}

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}

function parseNamed(name: string, checkStr: string, origin: string): Check {
  try {
    return parseRule(checkStr);
  } catch (err) {
    if (!(err instanceof PolicyParseError)) throw err;
    throw new PolicyParseError(`policy rule "${name}" (${origin}): ${err.message}`, err.checkStr, name);
  }
}

/** Defaults are copied in and out so callers cannot change a rule behind the cache's back. */
function copyDefault(d: RuleDefault): RuleDefault {
  return structuredClone(d);
}
