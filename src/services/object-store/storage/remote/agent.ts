import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../../../common/clock.js';
import { runAuditorOnce, type AuditReport } from '../../workers/auditor.js';
import { isLoopback } from './protocol.js';
import { StorageServer } from './server.js';

export interface StorageAgentOptions {
  /** Directory whose subdirectories are the devices served (Swift's /srv/node). */
  devicesDir: string;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Shared secret; required unless `host` is a loopback address. */
  key: string;
  /** Seconds between auditor passes over this node's devices; 0 disables. */
  auditorSeconds: number;
  clock?: Clock;
  onAudit?: (report: AuditReport) => void;
  onError?: (err: unknown) => void;
}

export interface RunningStorageAgent {
  host: string;
  port: number;
  server: StorageServer;
  /** One auditor pass now (tests, operators). */
  audit(): Promise<AuditReport>;
  close(): Promise<void>;
}

/**
 * `nubes agent storage`: serves this host's devices to the proxies over HTTP and audits them.
 * Replication, updates and expiry are driven by the proxy that holds the rings; an agent needs
 * no ring of its own, only its devices directory and the shared key.
 */
export async function startStorageAgent(opts: StorageAgentOptions): Promise<RunningStorageAgent> {
  if (!opts.key && !isLoopback(opts.host)) {
    throw new Error(`refusing to serve storage on ${opts.host} without [object_store] storage_key: anyone who can reach it could read and write every object`);
  }
  mkdirSync(opts.devicesDir, { recursive: true });
  const server = new StorageServer({ devicesDir: opts.devicesDir, key: opts.key });
  const clock = opts.clock ?? systemClock;
  const audit = () => runAuditorOnce({ clock, localDisks: () => server.localDevices().map((d) => d.objects) });
  await new Promise<void>((resolve, reject) => {
    server.http.once('error', reject);
    server.http.listen(opts.port, opts.host, () => resolve());
  });
  let timer: NodeJS.Timeout | undefined;
  let auditing: Promise<void> | undefined;
  if (opts.auditorSeconds > 0) {
    const arm = () => {
      timer = setTimeout(() => {
        auditing = audit().then(
          (r) => opts.onAudit?.(r),
          (err: unknown) => opts.onError?.(err),
        );
        void auditing.finally(arm);
      }, opts.auditorSeconds * 1000);
      timer.unref();
    };
    arm();
  }
  const address = server.http.address() as AddressInfo;
  return {
    host: opts.host,
    port: address.port,
    server,
    audit,
    async close() {
      if (timer) clearTimeout(timer);
      await auditing;
      server.http.closeAllConnections();
      await new Promise<void>((resolve) => server.http.close(() => resolve()));
      server.close();
    },
  };
}
