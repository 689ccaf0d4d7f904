/** Reading the operator's policy file (oslo's policy.yaml / policy.json format). */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseRule, PolicyParseError } from './parser.js';

/**
 * Reads "rule name": "check string" pairs from a YAML or JSON file (YAML parses JSON too).
 * A missing file means no overrides, as in oslo; anything malformed throws, naming the file
 * and rule, because running with half an operator's policy would be worse than not starting.
 */
export function loadPolicyOverrides(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return {};
    throw new Error(`cannot read policy file ${path}: ${errorMessage(err)}`, { cause: err });
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new Error(`policy file ${path} is not valid YAML or JSON: ${errorMessage(err)}`, { cause: err });
  }
  // An empty or comments-only file is how sample policy files ship: nothing overridden.
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new Error(`policy file ${path} must map rule names to check strings, but holds ${kindOf(data)}`);
  }
  const rules: [string, string][] = [];
  for (const [name, checkStr] of Object.entries(data)) {
    if (typeof checkStr !== 'string') {
      throw new Error(`policy file ${path}: rule "${name}" must be a check string, not ${kindOf(checkStr)}`);
    }
    try {
      parseRule(checkStr);
    } catch (err) {
      if (!(err instanceof PolicyParseError)) throw err;
      throw new Error(`policy file ${path}: rule "${name}": ${err.message}`, { cause: err });
    }
    rules.push([name, checkStr]);
  }
  // fromEntries defines own properties, so a rule named "__proto__" stays an ordinary key.
  return Object.fromEntries(rules);
}

function errorCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
