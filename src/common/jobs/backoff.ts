/** Delay before retry number `attempt` (1 = after the first failure). */
export type Backoff = (attempt: number) => number;

/**
 * Exponential backoff with a cap and up to 20% jitter. The jitter keeps a burst
 * of jobs that failed together (say, a database blip) from retrying in lockstep
 * against the same dependency on every worker.
 */
export function exponentialBackoff(
  baseMs = 1000,
  maxMs = 5 * 60_000,
  random: () => number = Math.random,
): Backoff {
  return (attempt) => {
    const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
    return Math.min(maxMs, Math.round(raw * (1 + 0.2 * random())));
  };
}
