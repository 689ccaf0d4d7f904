/**
 * Swift timestamps: "1700000000.12345" (seconds, 5 decimals = 10 µs resolution). Every write
 * carries one and the newest wins everywhere (replicas, listings, tombstones), so comparisons
 * must be exact: they are done on the digits, never on floats.
 */

const TS_RE = /^(\d{1,10})(?:\.(\d{1,5}))?(?:_[0-9a-f]{16})?$/;

/** Normalized form "%016.05f" ("0000000001.00000" ... "1700000000.12345"); throws on garbage. */
export function normalizeTimestamp(ts: string): string {
  const m = TS_RE.exec(ts);
  if (!m) {
    // Accept float-ish input (e.g. "1700000000.123456789") by rounding to 10 µs.
    const n = Number(ts);
    if (!Number.isFinite(n) || n < 0) throw new Error(`invalid timestamp: ${ts}`);
    return n.toFixed(5).padStart(16, '0');
  }
  return `${m[1]!.padStart(10, '0')}.${(m[2] ?? '').padEnd(5, '0')}`;
}

export function isValidTimestamp(ts: string): boolean {
  try {
    normalizeTimestamp(ts);
    return true;
  } catch {
    return false;
  }
}

/** <0, 0, >0 like a comparator; works on normalized digits so 10 µs apart is still ordered. */
export function compareTimestamps(a: string, b: string): number {
  const na = normalizeTimestamp(a);
  const nb = normalizeTimestamp(b);
  return na < nb ? -1 : na > nb ? 1 : 0;
}

export function timestampFromDate(d: Date): string {
  return (d.getTime() / 1000).toFixed(5).padStart(16, '0');
}

let lastIssued = '';
/**
 * A process-wide strictly increasing timestamp: two writes in the same millisecond must still
 * be ordered, or last-write-wins would treat the second as a stale duplicate (409).
 */
export function newTimestamp(now: Date = new Date()): string {
  let ts = timestampFromDate(now);
  if (lastIssued && ts <= lastIssued) {
    const [sec, frac] = lastIssued.split('.') as [string, string];
    const next = BigInt(sec) * 100000n + BigInt(frac) + 1n;
    ts = `${(next / 100000n).toString().padStart(10, '0')}.${(next % 100000n).toString().padStart(5, '0')}`;
  }
  lastIssued = ts;
  return ts;
}

export function timestampToDate(ts: string): Date {
  const n = normalizeTimestamp(ts);
  const [sec, frac] = n.split('.') as [string, string];
  return new Date(Number(sec) * 1000 + Math.floor(Number(frac) / 100));
}

const NORMALIZED_RE = /^\d{10}\.\d{5}$/;
let memoSecond = '';
let memoIso = '';

/**
 * Swift's listing format for last_modified: "2023-11-14T22:13:20.123450" (UTC, no zone suffix).
 * Called once per listed row: stored timestamps are already normalized, and rows listed
 * together were mostly written in the same second, so the date part of the last second is kept.
 */
export function listingDate(ts: string): string {
  const n = NORMALIZED_RE.test(ts) ? ts : normalizeTimestamp(ts);
  const sec = n.slice(0, 10);
  if (sec !== memoSecond) {
    memoIso = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
    memoSecond = sec;
  }
  return `${memoIso}.${n.slice(11)}0`;
}
