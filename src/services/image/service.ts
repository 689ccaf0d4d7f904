import type { ServiceDeps } from '../../common/service.js';
import { CloudError, badRequest, conflict, forbidden, notFound } from '../../common/errors.js';
import { isoMicro } from '../../common/db/time.js';
import { uuid } from '../../common/ids.js';
import type { JobHandler } from '../../common/jobs/index.js';
import { CORE_WRITABLE, MEMBER_STATUSES, type Image, type ImageMember, type MemberStatus, type Visibility } from './model/image.js';
import { ImageRepository } from './store/repository.js';
import { InProcessHttp } from './stores/in-process-http.js';
import { buildStoreRegistry, type StoreRegistry } from './stores/registry.js';
import { dataJobHandlers, deleteDataOf, reconcileStores } from './stores/maintenance.js';
import { checkWritable, validateAttribute, validateTag } from './validate.js';
import type { Caller } from './caller.js';
import type { ImageCacheFeature } from './cache/feature.js';
import { ImageQuotas } from './quota/limits.js';

export const DATA_QUEUE = 'image.data';

/** The image service's domain logic: Glance's lifecycle, visibility and sharing rules. */
export class ImageService {
  readonly repo: ImageRepository;
  /** This cloud's own HTTP API in-process (the swift store and glance-download use it). */
  readonly http = new InProcessHttp();
  /** The enabled stores (multi-store); every location names one. */
  readonly stores: StoreRegistry;
  /** Run (in order) before an image row is deleted, e.g. to drop its staged data. */
  readonly beforeDelete: ((image: Image) => Promise<void>)[] = [];
  /** The local image cache (cache/feature.ts), set by index.ts; downloads are served from and fill it. */
  cache: ImageCacheFeature | null = null;

  /** Keystone unified-limit quotas (quota/limits.ts). */
  readonly quotas: ImageQuotas;

  constructor(readonly deps: ServiceDeps, stores?: StoreRegistry) {
    this.repo = new ImageRepository(deps.db);
    this.quotas = new ImageQuotas(deps);
    this.stores = stores ?? buildStoreRegistry(deps.config, this.http);
  }

  get config() {
    return this.deps.config.image;
  }

  now(): string {
    return isoMicro(this.deps.clock.now());
  }

  /** Glance's visibility rule: owner, admin, public/community, or a member of a shared image. */
  async visible(caller: Caller, image: Image): Promise<boolean> {
    if (caller.isAdmin || (caller.project && image.owner === caller.project)) return true;
    if (image.visibility === 'public' || image.visibility === 'community') return true;
    if (image.visibility === 'shared' && caller.project) return (await this.repo.member(image.id, caller.project)) !== null;
    return false;
  }

  /** The image if the caller may see it; 404 otherwise (its existence is not revealed). */
  async get(caller: Caller, id: string): Promise<Image> {
    const image = await this.repo.find(id);
    if (!image || !(await this.visible(caller, image))) throw notFound(`No image found with ID ${id}`);
    return image;
  }

  isOwner(caller: Caller, image: Image): boolean {
    return caller.isAdmin || (caller.project !== null && image.owner === caller.project);
  }

  /** Visible but not owned: Glance's ImmutableImageProxy answers 403. */
  async getMutable(caller: Caller, id: string, message = 'You are not permitted to modify this image.'): Promise<Image> {
    const image = await this.get(caller, id);
    if (!this.isOwner(caller, image)) throw forbidden(message);
    return image;
  }

  private checkVisibilityChange(caller: Caller, visibility: Visibility): void {
    if (visibility === 'public' && !caller.isAdmin) throw forbidden('You are not authorized to complete publicize_image action.');
  }

  async create(caller: Caller, body: Record<string, unknown>): Promise<Image> {
    for (const [key, value] of Object.entries(body)) {
      if (key !== 'id') checkWritable(key);
      validateAttribute(key, value);
    }
    await this.quotas.enforce(caller.project, { image_count_total: 1 });
    const id = (body.id as string | undefined)?.toLowerCase() ?? uuid();
    if (await this.repo.exists(id)) throw conflict(`An image with identifier ${id} already exists`);
    const owner = body.owner === undefined ? caller.project : (body.owner as string | null);
    if (owner !== caller.project && !caller.isAdmin) throw forbidden(`You are not permitted to create images owned by '${String(owner)}'.`);
    const visibility = (body.visibility as Visibility | undefined) ?? 'shared';
    this.checkVisibilityChange(caller, visibility);
    const tags = dedupe((body.tags as string[] | undefined) ?? []);
    this.checkQuota('image_tag_quota', tags.length, 'tags');
    const properties: Record<string, string> = {};
    for (const [key, value] of Object.entries(body)) {
      if (!CORE_WRITABLE.has(key) && key !== 'id') properties[key] = value as string;
    }
    this.checkQuota('image_property_quota', Object.keys(properties).length, 'properties');
    const now = this.now();
    const image: Image = {
      id,
      name: (body.name as string | null | undefined) ?? null,
      status: 'queued',
      visibility,
      protected: (body.protected as boolean | undefined) ?? false,
      osHidden: (body.os_hidden as boolean | undefined) ?? false,
      owner,
      checksum: null,
      osHashAlgo: null,
      osHashValue: null,
      size: null,
      virtualSize: null,
      diskFormat: (body.disk_format as string | null | undefined) ?? null,
      containerFormat: (body.container_format as string | null | undefined) ?? null,
      minDisk: (body.min_disk as number | undefined) ?? 0,
      minRam: (body.min_ram as number | undefined) ?? 0,
      properties,
      locations: [],
      tags,
      createdAt: now,
      updatedAt: now,
    };
    await this.repo.insert(image);
    this.deps.events.publish('image.create', { id, name: image.name, owner: image.owner });
    return image;
  }

  checkQuota(option: 'image_tag_quota' | 'image_property_quota' | 'image_member_quota', count: number, what: string): void {
    const limit = this.config[option];
    if (limit >= 0 && count > limit) throw new CloudError('payload_too_large', `Maximum number of ${what} exceeded: ${count} > ${limit}`);
  }

  /** Applies already-validated changes of a PATCH (see api/images/patch.ts) and stores them. */
  /** `data`: also write status, size, hashes and locations (a PATCH of /locations changes them). */
  async save(caller: Caller, before: Image, after: Image, opts: { data?: boolean } = {}): Promise<Image> {
    if (after.visibility !== before.visibility) this.checkVisibilityChange(caller, after.visibility);
    if (after.owner !== before.owner && !caller.isAdmin) throw forbidden("Owner can't be updated by non admin.");
    if (after.status === 'active' || after.status === 'deactivated') {
      if (after.diskFormat !== before.diskFormat || after.containerFormat !== before.containerFormat) {
        throw forbidden('Attribute container_format can be only replaced for a queued image.');
      }
    }
    this.checkQuota('image_tag_quota', after.tags.length, 'tags');
    this.checkQuota('image_property_quota', Object.keys(after.properties).length, 'properties');
    after.updatedAt = this.now();
    const tagsChanged = after.tags.join('\n') !== before.tags.join('\n');
    if (!(await this.repo.update(after, { tags: tagsChanged, data: opts.data }))) throw notFound(`No image found with ID ${after.id}`);
    this.deps.events.publish('image.update', { id: after.id });
    return after;
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const image = await this.getMutable(caller, id, 'You are not permitted to delete this image.');
    if (image.protected) throw forbidden(`Image ${id} is protected and cannot be deleted.`);
    for (const hook of this.beforeDelete) await hook(image);
    // The jobs are stored before the row goes: a crash in between leaves the data referenced, never lost track of.
    await deleteDataOf(this, image.locations, image.id);
    await this.repo.delete(id);
    this.deps.events.publish('image.delete', { id });
  }

  async deactivate(caller: Caller, id: string): Promise<void> {
    const image = await this.getMutable(caller, id);
    if (image.status === 'deactivated') return;
    if (image.status !== 'active') throw forbidden(`Not allowed to deactivate image in status '${image.status}'`);
    if (!(await this.repo.transition(id, ['active'], { status: 'deactivated', updated_at: this.now() }))) throw conflict('Image status changed concurrently.');
  }

  async reactivate(caller: Caller, id: string): Promise<void> {
    const image = await this.getMutable(caller, id);
    if (image.status === 'active') return;
    if (image.status !== 'deactivated') throw forbidden(`Not allowed to reactivate image in status '${image.status}'`);
    if (!(await this.repo.transition(id, ['deactivated'], { status: 'active', updated_at: this.now() }))) throw conflict('Image status changed concurrently.');
  }

  async addTag(caller: Caller, id: string, tag: string): Promise<void> {
    validateTag(tag);
    const image = await this.getMutable(caller, id);
    if (!image.tags.includes(tag)) this.checkQuota('image_tag_quota', image.tags.length + 1, 'tags');
    await this.repo.addTag(id, tag);
    await this.repo.touch(id, this.now());
  }

  async removeTag(caller: Caller, id: string, tag: string): Promise<void> {
    await this.getMutable(caller, id);
    if (!(await this.repo.removeTag(id, tag))) throw notFound(`Tag ${tag} not found`);
    await this.repo.touch(id, this.now());
  }

  // Members: only the owner adds and removes them, only the member answers.

  async addMember(caller: Caller, id: string, memberId: string): Promise<ImageMember> {
    const image = await this.getMutable(caller, id, 'You are not permitted to create image members for the image.');
    if (image.visibility !== 'shared') throw forbidden('Only shared images have members.');
    if (await this.repo.member(id, memberId)) throw conflict(`Member ${memberId} already exists on image ${id}`);
    this.checkQuota('image_member_quota', (await this.repo.members(id)).length + 1, 'image members');
    const now = this.now();
    const member: ImageMember = { imageId: id, memberId, status: 'pending', createdAt: now, updatedAt: now };
    await this.repo.insertMember(member);
    return member;
  }

  async listMembers(caller: Caller, id: string): Promise<ImageMember[]> {
    const image = await this.get(caller, id);
    if (image.visibility !== 'shared') throw forbidden(`Only shared images have members.`);
    const members = await this.repo.members(id);
    return this.isOwner(caller, image) ? members : members.filter((m) => m.memberId === caller.project);
  }

  async getMember(caller: Caller, id: string, memberId: string): Promise<ImageMember> {
    const image = await this.get(caller, id);
    if (image.visibility !== 'shared') throw forbidden(`Only shared images have members.`);
    const member = await this.repo.member(id, memberId);
    if (!member || (!this.isOwner(caller, image) && memberId !== caller.project)) throw notFound(`Member ${memberId} not found`);
    return member;
  }

  async updateMember(caller: Caller, id: string, memberId: string, status: unknown): Promise<ImageMember> {
    if (typeof status !== 'string' || !(MEMBER_STATUSES as readonly string[]).includes(status)) {
      throw badRequest(`Provided object does not match schema 'member': ${JSON.stringify(status)} is not one of ${JSON.stringify(MEMBER_STATUSES)}`);
    }
    const member = await this.getMember(caller, id, memberId);
    if (caller.project !== memberId) throw forbidden('You are not permitted to modify the status of this member.');
    member.status = status as MemberStatus;
    member.updatedAt = this.now();
    await this.repo.updateMember(member);
    return member;
  }

  async deleteMember(caller: Caller, id: string, memberId: string): Promise<void> {
    const image = await this.get(caller, id);
    if (!this.isOwner(caller, image)) throw forbidden('You are not permitted to delete image members for the image.');
    if (image.visibility !== 'shared') throw forbidden('Only shared images have members.');
    if (!(await this.repo.member(id, memberId))) throw notFound(`Member ${memberId} not found`);
    await this.repo.deleteMember(id, memberId);
  }

  /** The durable data-deletion and store-reaping jobs (stores/maintenance.ts). */
  jobHandlers(): JobHandler[] {
    return dataJobHandlers(this);
  }

  /**
   * Start-up reconciliation, run only when this process owns the data (SQLite, one process):
   * uploads cut short by a crash go back to queued, their temporary files go, and stored
   * objects no image points at (a delete job lost with its database) are reaped.
   */
  async reconcile(): Promise<void> {
    for (const id of await this.repo.idsInStatus('saving')) await this.repo.transition(id, ['saving'], { status: 'queued', updated_at: this.now() });
    await reconcileStores(this);
  }
}

function dedupe(tags: string[]): string[] {
  return [...new Set(tags)].sort();
}
