/**
 * fnmatch-style matching for event-type patterns, as Ceilometer's event
 * definitions use: '*' spans dots, so 'compute.instance.*' also matches
 * 'compute.instance.create.end'. Only '*' and '?' are special.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

/** A matcher that skips the regular expression for the common exact and match-all cases. */
export function compilePattern(pattern: string): (eventType: string) => boolean {
  if (pattern === '*') return () => true;
  if (!pattern.includes('*') && !pattern.includes('?')) return (eventType) => eventType === pattern;
  const re = globToRegExp(pattern);
  return (eventType) => re.test(eventType);
}
