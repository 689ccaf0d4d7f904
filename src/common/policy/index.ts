/** oslo.policy-compatible policy engine; see docs/policy.md. */
export type { PolicyCredentials, PolicyTarget, RuleDefault, DeprecatedRule, ScopeType } from './types.js';
export { ruleDefault } from './types.js';
export type { Check, Operand } from './check.js';
export { formatCheck } from './check.js';
export { parseRule, PolicyParseError } from './parser.js';
export { PolicyEnforcer, type PolicyEnforcerOptions } from './enforcer.js';
export { loadPolicyOverrides } from './overrides.js';
