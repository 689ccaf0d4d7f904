import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Clock } from '../../../common/clock.js';
import { CorruptObject, type ObjectDisk } from '../storage/local/diskfile.js';
import { compareTimestamps, timestampFromDate } from '../storage/timestamp.js';

export interface AuditReport {
  checked: number;
  quarantined: string[];
  /** Tombstones older than the reclaim age that were removed. */
  reclaimed: number;
}

/** Swift's reclaim_age: a tombstone must outlive any replica's downtime, or deletes come back. */
export const RECLAIM_AGE_SECONDS = 7 * 24 * 3600;

/** What the auditor walks: the devices of this machine (a proxy's or a storage agent's). */
export interface AuditSource {
  clock: Clock;
  localDisks(): ObjectDisk[];
}

/**
 * Swift's object auditor: re-reads every .data file, checks footer, size and MD5, and moves
 * anything corrupt to <device>/quarantined so readers stop serving it; the replicator then
 * restores a good copy from another replica.
 */
export async function runAuditorOnce(source: AuditSource): Promise<AuditReport> {
  const report: AuditReport = { checked: 0, quarantined: [], reclaimed: 0 };
  const reclaimBefore = timestampFromDate(new Date(source.clock.now().getTime() - RECLAIM_AGE_SECONDS * 1000));
  for (const disk of source.localDisks()) {
    try {
      disk.check();
    } catch {
      continue;
    }
    for (const part of await disk.partitions()) {
      for (const { hash } of await disk.hashesIn(part)) {
        let bad = false;
        try {
          const state = await disk.readState(part, hash);
          if (state?.kind === 'tombstone' && compareTimestamps(state.timestamp, reclaimBefore) < 0) {
            await disk.cleanup(part, hash, reclaimBefore);
            report.reclaimed++;
            continue;
          }
          if (state?.kind !== 'data') continue;
          report.checked++;
          const md5 = createHash('md5');
          if (state.meta.size > 0) for await (const chunk of createReadStream(disk.filePath(part, hash, state.dataName), { start: 0, end: state.meta.size - 1 })) md5.update(chunk as Buffer);
          bad = md5.digest('hex') !== state.meta.etag;
        } catch (err) {
          if (!(err instanceof CorruptObject)) continue;
          bad = true;
        }
        if (bad) report.quarantined.push(await disk.quarantineDir(part, hash));
      }
    }
  }
  return report;
}
