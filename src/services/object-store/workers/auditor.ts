import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { LocalCluster } from '../storage/local/cluster.js';
import { CorruptObject } from '../storage/local/diskfile.js';
import { compareTimestamps, timestampFromDate } from '../storage/timestamp.js';

export interface AuditReport {
  checked: number;
  quarantined: string[];
  /** Tombstones older than the reclaim age that were removed. */
  reclaimed: number;
}

/** Swift's reclaim_age: a tombstone must outlive any replica's downtime, or deletes come back. */
export const RECLAIM_AGE_SECONDS = 7 * 24 * 3600;

/**
 * Swift's object auditor: re-reads every .data file, checks footer, size and MD5, and moves
 * anything corrupt to <device>/quarantined so readers stop serving it; the replicator then
 * restores a good copy from another replica.
 */
export async function runAuditorOnce(cluster: LocalCluster): Promise<AuditReport> {
  const report: AuditReport = { checked: 0, quarantined: [], reclaimed: 0 };
  const reclaimBefore = timestampFromDate(new Date(cluster.clock.now().getTime() - RECLAIM_AGE_SECONDS * 1000));
  for (const disk of cluster.devices.all()) {
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
          if (state.meta.size > 0) for await (const chunk of createReadStream(state.dataFile, { start: 0, end: state.meta.size - 1 })) md5.update(chunk as Buffer);
          bad = md5.digest('hex') !== state.meta.etag;
        } catch (err) {
          if (!(err instanceof CorruptObject)) continue;
          bad = true;
        }
        if (bad) report.quarantined.push(await disk.quarantine(part, hash));
      }
    }
  }
  return report;
}
