import { swiftError } from './faults.js';

export interface SwiftPath {
  account: string;
  container?: string;
  object?: string;
}

export interface NameLimits {
  max_account_name_length: number;
  max_container_name_length: number;
  max_object_name_length: number;
}

/** Percent-decodes a path as UTF-8; Swift answers 412 for invalid UTF-8 or NUL anywhere in it. */
export function decodePath(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw swiftError(412, 'Invalid UTF8 or contains NULL');
  }
  // decodeURIComponent already throws on malformed UTF-8 sequences.
  if (decoded.includes('\u0000')) {
    throw swiftError(412, 'Invalid UTF8 or contains NULL');
  }
  return decoded;
}

/**
 * Splits "/v1/<account>[/<container>[/<object>]]" like swob's split_path(1, 4, True): the object
 * keeps its slashes, a trailing empty object or container means "none", an empty segment in the
 * middle is a bad URL (404).
 */
export function splitSwiftPath(rest: string, limits: NameLimits): SwiftPath {
  const segs = rest.split('/');
  // rest starts with '/', so segs[0] === ''
  const account = segs[1] ?? '';
  const container = segs[2] ?? '';
  const object = segs.length > 3 ? segs.slice(3).join('/') : '';
  if (!account) throw swiftError(404);
  if (!container && object) throw swiftError(404);
  if (Buffer.byteLength(account) > limits.max_account_name_length) {
    throw swiftError(400, `Account name length of ${Buffer.byteLength(account)} longer than ${limits.max_account_name_length}`);
  }
  if (container && Buffer.byteLength(container) > limits.max_container_name_length) {
    throw swiftError(400, `Container name length of ${Buffer.byteLength(container)} longer than ${limits.max_container_name_length}`);
  }
  if (object && Buffer.byteLength(object) > limits.max_object_name_length) {
    throw swiftError(400, `Object name length of ${Buffer.byteLength(object)} longer than ${limits.max_object_name_length}`);
  }
  return { account, ...(container ? { container } : {}), ...(object ? { object } : {}) };
}

/**
 * The "container/object" of a Destination or X-Copy-From header (URL-quoted, optional leading
 * slash); 412 when it has no object part, as Swift's copy middleware answers.
 */
export function parseCopyTarget(header: string, what: 'Destination' | 'X-Copy-From'): { container: string; object: string } {
  let value = header;
  try {
    value = decodeURIComponent(header);
  } catch {
    throw swiftError(412, 'Invalid UTF8 or contains NULL');
  }
  if (value.includes('\u0000')) throw swiftError(412, 'Invalid UTF8 or contains NULL');
  value = value.replace(/^\//, '');
  const slash = value.indexOf('/');
  if (slash <= 0 || slash === value.length - 1) {
    throw swiftError(412, `${what} header must be of the form <container name>/<object name>`);
  }
  return { container: value.slice(0, slash), object: value.slice(slash + 1) };
}
