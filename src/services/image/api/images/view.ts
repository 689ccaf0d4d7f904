import { isoSeconds, parseIso } from '../../../../common/db/time.js';
import { storeOfLocation, type Image, type ImageMember } from '../../model/image.js';

const wireTime = (iso: string): string => isoSeconds(parseIso(iso));

/** Glance's ImagesResponseSerializer: custom properties at the top level, then the core attributes. */
export function renderImage(image: Image): Record<string, unknown> {
  const stores = image.locations.map(storeOfLocation).filter((id): id is string => id !== null);
  // os_glance_stage_host is bookkeeping between API workers; Glance's serializer hides it.
  const { os_glance_stage_host: _stageHost, ...properties } = image.properties;
  return {
    ...properties,
    name: image.name,
    disk_format: image.diskFormat,
    container_format: image.containerFormat,
    visibility: image.visibility,
    size: image.size,
    virtual_size: image.virtualSize,
    status: image.status,
    checksum: image.checksum,
    protected: image.protected,
    min_ram: image.minRam,
    min_disk: image.minDisk,
    owner: image.owner,
    os_hidden: image.osHidden,
    os_hash_algo: image.osHashAlgo,
    os_hash_value: image.osHashValue,
    id: image.id,
    created_at: wireTime(image.createdAt),
    updated_at: wireTime(image.updatedAt),
    tags: image.tags,
    self: `/v2/images/${image.id}`,
    file: `/v2/images/${image.id}/file`,
    schema: '/v2/schemas/image',
    ...(stores.length ? { stores: stores.join(',') } : {}),
  };
}

export function renderMember(member: ImageMember): Record<string, unknown> {
  return {
    created_at: wireTime(member.createdAt),
    image_id: member.imageId,
    member_id: member.memberId,
    schema: '/v2/schemas/member',
    status: member.status,
    updated_at: wireTime(member.updatedAt),
  };
}
