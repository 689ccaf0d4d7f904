/** Glance's image lifecycle and the enumerations of its image schema (Zed). */
export type ImageStatus = 'queued' | 'saving' | 'active' | 'killed' | 'deleted' | 'pending_delete' | 'deactivated' | 'uploading' | 'importing';
export const IMAGE_STATUSES: readonly ImageStatus[] = ['queued', 'saving', 'active', 'killed', 'deleted', 'pending_delete', 'deactivated', 'uploading', 'importing'];

export type Visibility = 'public' | 'private' | 'shared' | 'community';
export const VISIBILITIES: readonly Visibility[] = ['public', 'private', 'shared', 'community'];

export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;

export type MemberStatus = 'pending' | 'accepted' | 'rejected';
export const MEMBER_STATUSES: readonly MemberStatus[] = ['pending', 'accepted', 'rejected'];

/** Attributes the server owns: setting them is 403 "Attribute '<x>' is read-only." */
export const READ_ONLY_ATTRIBUTES = new Set([
  'checksum', 'os_hash_algo', 'os_hash_value', 'created_at', 'updated_at', 'status', 'size', 'virtual_size',
  'direct_url', 'self', 'file', 'schema', 'id', 'stores',
]);
/** Names that may never become custom properties: 403 "Attribute '<x>' is reserved." */
export const RESERVED_ATTRIBUTES = new Set(['deleted', 'deleted_at', 'location', 'locations']);
/** Core attributes the client may set. */
export const CORE_WRITABLE = new Set(['name', 'visibility', 'protected', 'os_hidden', 'owner', 'disk_format', 'container_format', 'min_disk', 'min_ram', 'tags']);

export interface Image {
  id: string;
  name: string | null;
  status: ImageStatus;
  visibility: Visibility;
  protected: boolean;
  osHidden: boolean;
  owner: string | null;
  checksum: string | null;
  osHashAlgo: string | null;
  osHashValue: string | null;
  size: number | null;
  virtualSize: number | null;
  diskFormat: string | null;
  containerFormat: string | null;
  minDisk: number;
  minRam: number;
  properties: Record<string, string>;
  /** Where the data is, one entry per store holding a copy; empty until data arrives. */
  locations: ImageLocation[];
  tags: string[];
  createdAt: string;
  updatedAt: string;
}

/** Glance's location: a store URL plus metadata; `metadata.store` names the store (multi-store). */
export interface ImageLocation {
  url: string;
  metadata: Record<string, unknown>;
}

/** The store id a location belongs to, when it records one. */
export const storeOfLocation = (location: ImageLocation): string | null =>
  typeof location.metadata.store === 'string' ? location.metadata.store : null;

export interface ImageMember {
  imageId: string;
  memberId: string;
  status: MemberStatus;
  createdAt: string;
  updatedAt: string;
}
