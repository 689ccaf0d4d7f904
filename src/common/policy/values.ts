/**
 * Value lookup and comparison helpers. oslo.policy compares everything as Python strings, so
 * these reproduce Python's str() and %-formatting closely enough for check strings.
 */

/** `found` tells "absent" from "present": an absent value fails a check instead of matching 'None'. */
export type Lookup = { readonly found: true; readonly value: unknown } | { readonly found: false };

const NOT_FOUND: Lookup = { found: false };

/** A parsed `%(key)s` template: literal text and substitution keys in order. */
export type Template = readonly (string | { readonly key: string })[];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Finds a dotted key. The flat key is tried first because Keystone flattens targets into
 * 'target.user.id'-style keys; otherwise dots walk into nested objects (mixtures work too).
 * Only own properties count, so no rule can reach into Object.prototype.
 */
export function lookup(source: unknown, key: string): Lookup {
  return walk(source, key.split('.'));
}

function walk(source: unknown, segments: readonly string[]): Lookup {
  if (!isRecord(source)) return NOT_FOUND;
  for (let n = segments.length; n >= 1; n--) {
    const key = segments.slice(0, n).join('.');
    if (!Object.hasOwn(source, key)) continue;
    const value = source[key];
    if (n === segments.length) return value === undefined ? NOT_FOUND : { found: true, value };
    const deeper = walk(value, segments.slice(n));
    if (deeper.found) return deeper;
  }
  return NOT_FOUND;
}

/** Python's str() for the values that show up in credentials and targets ('True', 'None', ...). */
export function pyStr(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
    case 'bigint':
      return String(value);
    case 'undefined':
      return 'None';
    default:
      break;
  }
  if (value === null) return 'None';
  // Objects rarely appear in a comparison; any stable text will do, but it must never throw.
  try {
    return JSON.stringify(value) ?? Object.prototype.toString.call(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Fills a template from the target; undefined when a key is missing, which fails the check. */
export function renderTemplate(template: Template, target: unknown): string | undefined {
  let out = '';
  for (const part of template) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const hit = lookup(target, part.key);
    if (!hit.found) return undefined;
    out += pyStr(hit.value);
  }
  return out;
}
