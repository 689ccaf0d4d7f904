/** Row shapes of the image tables (see migrations/). */
export interface ImageRow {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  protected: number;
  os_hidden: number;
  owner: string | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  size: number | null;
  virtual_size: number | null;
  disk_format: string | null;
  container_format: string | null;
  min_disk: number;
  min_ram: number;
  /** Custom properties as a JSON object of strings; Glance shows them at the top level. */
  properties: string;
  /** JSON array of {url, metadata} (metadata.store is the store id); '[]' while there is no data. Migration 0002. */
  locations: string;
  created_at: string;
  updated_at: string;
}

export interface ImageTagRow {
  image_id: string;
  tag: string;
}

export interface ImageMemberRow {
  image_id: string;
  member_id: string;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface ImageTables {
  image_images: ImageRow;
  image_tags: ImageTagRow;
  image_members: ImageMemberRow;
}
