import { isDeepStrictEqual } from 'node:util';
import { badRequest, conflict, forbidden } from '../../../common/errors.js';
import type { Image, ImageLocation } from '../model/image.js';
import type { ImageService } from '../service.js';
import { deleteDataOf } from '../stores/maintenance.js';

export type LocationOp = 'add' | 'replace' | 'remove';

/** Schemes Glance never accepts in a location a user gives (LP #942118, #1334196). */
const RESTRICTED_SCHEMES = new Set(['file:', 'filesystem:', 'swift+config:']);
const HASH_SIZES: Record<string, number> = { md5: 16, sha1: 20, sha256: 32, sha384: 48, sha512: 64 };
const HASH_ALGO = 'sha512';

interface ValidationData {
  checksum?: string;
  os_hash_algo?: string;
  os_hash_value?: string;
}

export interface LocationInput {
  url: string;
  metadata: Record<string, unknown>;
  validation_data?: ValidationData;
}

/**
 * The `locations` part of an image PATCH, with Glance's rules (images.py _do_*_locations and the
 * StoreLocations proxy): `apply` runs for each operation in order and changes the image copy
 * synchronously; `verify` then asks each new location's store for its size (a location without
 * data is "Invalid location"); `commit` deletes the data of removed locations once the image is saved.
 *
 * Users may only add locations of read-only external stores (http): a location inside one of
 * this cloud's own stores would let anyone read any image's data by naming its key.
 */
export class LocationEdits {
  private readonly added: ImageLocation[] = [];
  private readonly removed: ImageLocation[] = [];

  /** The kinds of locations operation the PATCH had (the image's data fields must then be written). */
  readonly ops = new Set<LocationOp>();

  get used(): boolean {
    return this.ops.size > 0;
  }

  constructor(private readonly service: ImageService) {}

  apply(image: Image, op: LocationOp, position: string | null, value: unknown): void {
    if (!this.service.config.show_multiple_locations) {
      const verb = op === 'add' ? 'add' : op === 'remove' ? 'remove' : 'update';
      throw forbidden(`It's not allowed to ${verb} locations if locations are invisible.`);
    }
    this.ops.add(op);
    if (op === 'remove') return this.remove(image, position);
    if (op === 'add') return this.add(image, position, value as LocationInput);
    return this.replace(image, value as LocationInput[]);
  }

  private add(image: Image, position: string | null, input: LocationInput): void {
    if (image.status !== 'active' && image.status !== 'queued') throw conflict(`It's not allowed to add locations if image status is ${image.status}.`);
    const validation = this.validationData(image, [input]);
    const at = positionOf(position, image.locations.length, true);
    if (at === null) throw badRequest('Invalid position for adding a location.');
    const location = this.checkNew(input);
    if (image.locations.some((l) => sameLocation(l, location))) throw badRequest(`The location ${location.url} already exists`);
    image.locations = [...image.locations.slice(0, at), location, ...image.locations.slice(at)];
    this.added.push(location);
    this.activate(image, validation);
  }

  private replace(image: Image, inputs: LocationInput[]): void {
    if (!inputs.length) throw forbidden('Cannot set locations to empty list.');
    if (image.status !== 'active' && image.status !== 'queued') throw conflict(`It's not allowed to replace locations if image status is ${image.status}.`);
    const validation = this.validationData(image, inputs);
    const urls = (list: { url: string }[]) => list.map((l) => l.url).sort();
    const sameUrls = isDeepStrictEqual(urls(inputs), urls(image.locations));
    if (image.locations.length > 0 && !sameUrls) {
      throw badRequest(`Original locations is not empty: ${JSON.stringify(image.locations)}`);
    }
    let next: ImageLocation[];
    if (sameUrls) {
      // Only the metadata changes: the URLs were checked when they were added.
      next = inputs.map((l) => ({ url: l.url, metadata: l.metadata }));
    } else {
      next = inputs.map((l) => this.checkNew(l));
      next.forEach((l, i) => {
        if (next.findIndex((o) => sameLocation(o, l)) !== i) throw badRequest(`The location ${l.url} already exists`);
      });
      this.added.push(...next);
    }
    image.locations = next;
    this.activate(image, validation);
  }

  private remove(image: Image, position: string | null): void {
    if (image.status !== 'active') throw conflict(`It's not allowed to remove locations if image status is ${image.status}.`);
    if (image.locations.length === 1) throw forbidden('Cannot remove last location in the image.');
    const at = positionOf(position, image.locations.length, false);
    if (at === null) throw badRequest('Invalid position for removing a location.');
    const [gone] = image.locations.slice(at, at + 1);
    image.locations = image.locations.filter((_, i) => i !== at);
    if (gone) this.removed.push(gone);
  }

  /** A location a user adds: an enabled external store must own its URL; metadata.store names that store. */
  private checkNew(input: LocationInput): ImageLocation {
    let scheme: string;
    try {
      scheme = new URL(input.url).protocol;
    } catch {
      throw badRequest('Invalid location');
    }
    if (RESTRICTED_SCHEMES.has(scheme)) throw badRequest('Invalid location');
    const found = this.service.stores.resolve({ url: input.url, metadata: {} });
    if (!found || !found.entry.readOnly) throw badRequest('Invalid location');
    return { url: input.url, metadata: { ...input.metadata, store: found.entry.id } };
  }

  /** A queued image becomes active once it has a location; the validation data fills its hashes. */
  private activate(image: Image, validation: ValidationData): void {
    if (image.status !== 'queued') return;
    if (validation.checksum !== undefined) image.checksum = validation.checksum;
    if (validation.os_hash_algo !== undefined) image.osHashAlgo = validation.os_hash_algo;
    if (validation.os_hash_value !== undefined) image.osHashValue = validation.os_hash_value;
    image.status = 'active';
  }

  /** Glance's _validate_validation_data: values must agree with each other and with the image (409 otherwise). */
  private validationData(image: Image, inputs: LocationInput[]): ValidationData {
    const merged: Record<string, string> = {};
    for (const input of inputs) {
      for (const [key, value] of Object.entries(input.validation_data ?? {})) {
        if (merged[key] !== undefined && merged[key] !== value) throw conflict(`Conflicting values for ${key}`);
        merged[key] = value as string;
      }
    }
    const current: Record<string, string | null> = { checksum: image.checksum, os_hash_algo: image.osHashAlgo, os_hash_value: image.osHashValue };
    const fresh: Record<string, string> = {};
    for (const [key, value] of Object.entries(merged)) {
      if (value === current[key]) continue;
      if (current[key]) throw conflict(`${key} is already set with a different value`);
      fresh[key] = value;
    }
    if (!Object.keys(fresh).length) return {};
    if (image.status !== 'queued') throw conflict(`New value(s) for ${Object.keys(fresh).join(', ')} may only be provided when image status is 'queued'`);
    if (fresh.checksum !== undefined) {
      if (!/^[0-9a-fA-F]*$/.test(fresh.checksum) || fresh.checksum.length % 2) throw conflict(`checksum (${fresh.checksum}) is not a valid hexadecimal value`);
      if (fresh.checksum.length !== 32) throw conflict(`checksum (${fresh.checksum}) is not the correct size for md5 (should be 16 bytes)`);
    }
    const algo = fresh.os_hash_algo;
    if (algo !== HASH_ALGO) throw conflict(`os_hash_algo must be ${HASH_ALGO}, not ${String(algo)}`);
    const hash = fresh.os_hash_value ?? '';
    if (!/^[0-9a-fA-F]*$/.test(hash) || hash.length % 2) throw conflict(`os_hash_value (${hash}) is not a valid hexadecimal value`);
    if (hash.length !== 2 * (HASH_SIZES[algo] ?? 0)) throw conflict(`os_hash_value (${hash}) is not the correct size for ${algo} (should be ${HASH_SIZES[algo] ?? 0} bytes)`);
    return fresh;
  }

  /** Every new location must offer data (Glance: size_from_backend > 0); the first one sizes a sizeless image. */
  async verify(image: Image): Promise<void> {
    for (const location of this.added) {
      const found = this.service.stores.resolve(location);
      const stat = found ? await found.entry.store.stat(found.key) : null;
      if (!stat || stat.size <= 0) throw badRequest('Invalid location');
      if (image.size === null || image.size === 0) image.size = stat.size;
    }
  }

  /** After the image is saved: data no location points at any more is deleted (a durable job per copy). */
  async commit(image: Image): Promise<void> {
    const gone = this.removed.filter((l) => !image.locations.some((kept) => kept.url === l.url));
    if (gone.length) await deleteDataOf(this.service, gone);
  }
}

/** Glance's _get_locations_op_pos: `-` is the end, digits an index (within bounds for removals). */
function positionOf(text: string | null, length: number, allowEnd: boolean): number | null {
  if (text === null) return null;
  let at = allowEnd ? length : length - 1;
  if (/^\d+$/.test(text)) at = Number(text);
  else if (text !== '-') return null;
  if (allowEnd) return Math.min(at, length);
  return at >= 0 && at < length ? at : null;
}

function sameLocation(a: ImageLocation, b: ImageLocation): boolean {
  return a.url === b.url && isDeepStrictEqual(a.metadata, b.metadata);
}

const schemaError = (detail: string) => badRequest(`Provided object does not match schema 'image': ${detail}`);

/** Glance's image schema for `locations` items: {url (<= 255), metadata (object), validation_data?}. */
export function validateLocationItems(items: unknown[]): asserts items is LocationInput[] {
  for (const item of items) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw schemaError(`${JSON.stringify(item)} is not of type 'object'`);
    const loc = item as Record<string, unknown>;
    for (const key of ['url', 'metadata']) if (!(key in loc)) throw schemaError(`'${key}' is a required property`);
    if (typeof loc.url !== 'string') throw schemaError(`${JSON.stringify(loc.url)} is not of type 'string'`);
    if (loc.url.length > 255) throw schemaError(`'${loc.url.slice(0, 20)}...' is too long`);
    if (typeof loc.metadata !== 'object' || loc.metadata === null || Array.isArray(loc.metadata)) throw schemaError(`${JSON.stringify(loc.metadata)} is not of type 'object'`);
    if (loc.validation_data !== undefined) validateValidationData(loc.validation_data);
  }
}

function validateValidationData(data: unknown): void {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw schemaError(`${JSON.stringify(data)} is not of type 'object'`);
  const limits: Record<string, [number, number]> = { checksum: [32, 32], os_hash_algo: [0, 64], os_hash_value: [0, 128] };
  for (const [key, value] of Object.entries(data)) {
    const limit = limits[key];
    if (!limit) throw schemaError(`Additional properties are not allowed ('${key}' was unexpected)`);
    if (typeof value !== 'string') throw schemaError(`${JSON.stringify(value)} is not of type 'string'`);
    if (value.length < limit[0]) throw schemaError(`'${value}' is too short`);
    if (value.length > limit[1]) throw schemaError(`'${value.slice(0, 20)}...' is too long`);
  }
  for (const key of ['os_hash_algo', 'os_hash_value']) if (!(key in data)) throw schemaError(`'${key}' is a required property`);
}
