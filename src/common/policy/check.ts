/** The parsed form of a check string and how it is evaluated. */
import type { PolicyCredentials, PolicyTarget } from './types.js';
import { lookup, pyStr, renderTemplate, type Template } from './values.js';

/** Left side of a generic check: a credential to read, or a constant as in `'member':%(role.name)s`. */
export type Operand =
  | { readonly type: 'credential'; readonly path: string }
  | { readonly type: 'literal'; readonly value: string };

/**
 * A parsed rule. Plain immutable data so it can be cached, shared between rules and compared
 * in tests; leaves keep their source text for messages and listings.
 */
export type Check =
  | { readonly kind: 'true' }
  | { readonly kind: 'false' }
  | { readonly kind: 'http'; readonly source: string }
  | { readonly kind: 'role'; readonly source: string; readonly role: Template }
  | { readonly kind: 'rule'; readonly source: string; readonly name: string }
  | { readonly kind: 'generic'; readonly source: string; readonly left: Operand; readonly right: Template }
  | { readonly kind: 'not'; readonly operand: Check }
  | { readonly kind: 'and'; readonly operands: readonly Check[] }
  | { readonly kind: 'or'; readonly operands: readonly Check[] };

/** A rule found by name; `name` is the rule actually used, which differs when "default" stood in. */
export interface ResolvedRule {
  readonly name: string;
  readonly check: Check;
}

export interface EvalContext {
  readonly creds: PolicyCredentials;
  readonly target: PolicyTarget;
  /** Resolves `rule:NAME`; undefined when neither the rule nor a fallback exists. */
  readonly resolve: (name: string) => ResolvedRule | undefined;
}

/**
 * Evaluates a check. `active` holds the rules being evaluated further up the stack: meeting one
 * again is a `rule:` loop, which denies instead of recursing forever.
 */
export function evaluate(check: Check, ctx: EvalContext, active: Set<string> = new Set()): boolean {
  switch (check.kind) {
    case 'true':
      return true;
    case 'false':
    case 'http': // Nubes makes no outbound policy calls; see docs/policy.md.
      return false;
    case 'role':
      return roleMatches(check.role, ctx);
    case 'generic':
      return genericMatches(check.left, check.right, ctx);
    case 'rule':
      return ruleMatches(check.name, ctx, active);
    case 'not':
      return !evaluate(check.operand, ctx, active);
    case 'and':
      return check.operands.every((c) => evaluate(c, ctx, active));
    case 'or':
      return check.operands.some((c) => evaluate(c, ctx, active));
  }
}

function roleMatches(role: Template, ctx: EvalContext): boolean {
  const wanted = renderTemplate(role, ctx.target);
  const roles: unknown = ctx.creds.roles;
  if (wanted === undefined || !Array.isArray(roles)) return false;
  const lowered = wanted.toLowerCase();
  return roles.some((r) => typeof r === 'string' && r.toLowerCase() === lowered);
}

function genericMatches(left: Operand, right: Template, ctx: EvalContext): boolean {
  const expected = renderTemplate(right, ctx.target);
  if (expected === undefined) return false;
  if (left.type === 'literal') return left.value === expected;
  const hit = lookup(ctx.creds, left.path);
  // A null credential is treated as absent: otherwise an unscoped token's domain_id (None) would
  // equal a target's missing-but-null domain_id ('None' == 'None') and grant access.
  if (!hit.found || hit.value === null) return false;
  const actual = hit.value;
  if (Array.isArray(actual)) return actual.some((v) => pyStr(v) === expected);
  return pyStr(actual) === expected;
}

function ruleMatches(name: string, ctx: EvalContext, active: Set<string>): boolean {
  const rule = ctx.resolve(name);
  if (rule === undefined || active.has(rule.name)) return false;
  active.add(rule.name);
  try {
    return evaluate(rule.check, ctx, active);
  } finally {
    active.delete(rule.name);
  }
}

/** Canonical text of a check, fully parenthesised so precedence is visible. */
export function formatCheck(check: Check): string {
  switch (check.kind) {
    case 'true':
      return '@';
    case 'false':
      return '!';
    case 'http':
    case 'role':
    case 'rule':
    case 'generic':
      return check.source;
    case 'not':
      return `not ${formatCheck(check.operand)}`;
    case 'and':
    case 'or':
      return `(${check.operands.map(formatCheck).join(` ${check.kind} `)})`;
  }
}

/** Names referenced through `rule:` anywhere in the check. */
export function referencedRules(check: Check): string[] {
  switch (check.kind) {
    case 'rule':
      return [check.name];
    case 'not':
      return referencedRules(check.operand);
    case 'and':
    case 'or':
      return check.operands.flatMap(referencedRules);
    default:
      return [];
  }
}
