/**
 * Timestamps are stored as fixed-width ISO-8601 text (UTC, microseconds) on both engines:
 * they sort lexically, read the same everywhere and render as OpenStack prints them.
 */
export function isoMicro(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** OpenStack's common "2026-11-27T04:40:00Z" / "...000000Z" forms without milliseconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function parseIso(text: string): Date {
  return new Date(text.replace(/(\.\d{3})\d*Z$/, '$1Z'));
}
