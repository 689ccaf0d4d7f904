import type { Kysely } from 'kysely';
import { CloudError } from '../../../common/errors.js';
import type { ServiceDeps } from '../../../common/service.js';
import type { ImageLocation } from '../model/image.js';
import type { ImageTables } from '../store/tables.js';

/** Glance's unified-limit resources (glance/quota/keystone.py); sizes are MiB. */
export const IMAGE_RESOURCES = ['image_size_total', 'image_stage_total', 'image_count_total', 'image_count_uploading'] as const;
export type ImageResource = (typeof IMAGE_RESOURCES)[number];
export type Usage = Record<ImageResource, number>;

const MiB = 1024 * 1024;
const GONE = new Set(['killed', 'deleted']);
const UPLOADING = new Set(['saving', 'uploading', 'importing']);
const COPYING = 'os_glance_importing_to_stores';

/**
 * Per-project image quotas from Keystone's unified limits, enforced as Glance does with
 * oslo.limit: usage + delta over the limit is refused with 413, a resource without any limit
 * is limited to 0, and nothing is checked unless use_keystone_limits is on.
 */
export class ImageQuotas {
  private readonly db: Kysely<ImageTables>;

  constructor(private readonly deps: ServiceDeps) {
    this.db = deps.db.typed<ImageTables>();
  }

  get enabled(): boolean {
    return this.deps.config.image.use_keystone_limits;
  }

  /** What a project uses, as Glance's DB layer counts it. */
  async usage(projectId: string): Promise<Usage> {
    const rows = await this.db.selectFrom('image_images').select(['status', 'size', 'locations', 'properties']).where('owner', '=', projectId).execute();
    const usage: Usage = { image_size_total: 0, image_stage_total: 0, image_count_total: 0, image_count_uploading: 0 };
    let stored = 0;
    let staged = 0;
    for (const row of rows) {
      if (GONE.has(row.status)) continue;
      const size = Number(row.size ?? 0);
      const copying = Boolean((JSON.parse(row.properties) as Record<string, string>)[COPYING]);
      usage.image_count_total += 1;
      // Every copy counts: an image in two stores uses its size twice.
      if (size > 0) stored += size * (JSON.parse(row.locations) as ImageLocation[]).length;
      if (size > 0 && (row.status === 'uploading' || row.status === 'importing' || copying)) staged += size;
      if (UPLOADING.has(row.status) || copying) usage.image_count_uploading += 1;
    }
    usage.image_size_total = Math.floor(stored / MiB);
    usage.image_stage_total = Math.floor(staged / MiB);
    return usage;
  }

  /** The project's limit of each resource (0 where Keystone has none, as oslo.limit). */
  async limits(projectId: string, resources: readonly ImageResource[] = IMAGE_RESOURCES): Promise<Record<ImageResource, number>> {
    const found = this.deps.limits ? await this.deps.limits.projectLimits('image', projectId, resources) : {};
    return Object.fromEntries(resources.map((r) => [r, found[r] ?? 0])) as Record<ImageResource, number>;
  }

  /** Refuses (413) when usage + delta of any named resource exceeds its limit. */
  async enforce(projectId: string | null, deltas: Partial<Record<ImageResource, number>>): Promise<void> {
    if (!this.enabled || projectId === null) return;
    const resources = Object.keys(deltas) as ImageResource[];
    const [limits, usage] = await Promise.all([this.limits(projectId, resources), this.usage(projectId)]);
    const over = resources
      .filter((r) => usage[r] + (deltas[r] ?? 0) > limits[r])
      .map((r) => `Resource ${r} is over limit of ${limits[r]} due to current usage ${usage[r]} and delta ${deltas[r] ?? 0}`);
    if (over.length) throw new CloudError('payload_too_large', `Project ${projectId} is over a limit for [${over.join(', ')}]`);
  }

  /** GET /v2/info/usage: {resource: {usage, limit}} for the caller's project. */
  async report(projectId: string): Promise<Record<ImageResource, { usage: number; limit: number }>> {
    if (!this.enabled) return {} as Record<ImageResource, { usage: number; limit: number }>;
    const [limits, usage] = await Promise.all([this.limits(projectId), this.usage(projectId)]);
    return Object.fromEntries(IMAGE_RESOURCES.map((r) => [r, { usage: usage[r], limit: limits[r] }])) as Record<ImageResource, { usage: number; limit: number }>;
  }
}
