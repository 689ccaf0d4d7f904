import type { Readable } from 'node:stream';

/**
 * The storage cluster as Swift's proxy sees it: account, container and object servers placed by
 * rings. The proxy (api/) and the S3 API (s3/) only use this interface; `createLocalCluster`
 * (ring + local devices, or remote `nubes agent storage` nodes over HTTP) and `MemoryCluster`
 * (tests) implement it.
 *
 * Names are already validated and are raw UTF-8 strings (no URL encoding). Timestamps are
 * Swift's normalized X-Timestamp strings ("1700000000.12345"), last write wins.
 */
export interface StorageCluster {
  // ---- accounts -------------------------------------------------------------------------
  /** Account stats and metadata; null when the account was never created (Swift autocreates on PUT). */
  headAccount(account: string): Promise<AccountInfo | null>;
  /** Creates the account if missing (account_autocreate) and merges metadata (empty value removes). */
  updateAccount(account: string, meta: MetadataUpdate): Promise<AccountInfo>;
  listContainers(account: string, query: ListingQuery): Promise<ContainerListing[]>;
  deleteAccount(account: string, timestamp: string): Promise<void>;

  // ---- containers -----------------------------------------------------------------------
  headContainer(account: string, container: string): Promise<ContainerInfo | null>;
  /** Creates (true) or updates (false) a container; metadata merged, storage policy kept. */
  putContainer(account: string, container: string, meta: MetadataUpdate, timestamp: string): Promise<{ created: boolean; info: ContainerInfo }>;
  updateContainer(account: string, container: string, meta: MetadataUpdate): Promise<ContainerInfo | null>;
  /** 'conflict' when the container still has objects. */
  deleteContainer(account: string, container: string, timestamp: string): Promise<'deleted' | 'not_found' | 'conflict'>;
  listObjects(account: string, container: string, query: ListingQuery): Promise<ObjectListing[] | null>;

  // ---- objects --------------------------------------------------------------------------
  /**
   * Streams `body` to every replica: temp file, fsync, rename, directory fsync, then the
   * container listing is updated (or an async pending is queued). Resolves after a quorum of
   * replicas is durable. Rejects with StorageError('etag_mismatch' | 'too_large' | 'length_mismatch'
   * | 'client_disconnect' | 'insufficient_storage' | 'conflict': a replica holds a version as new or newer).
   */
  putObject(account: string, container: string, object: string, body: Readable, meta: ObjectWriteMeta): Promise<ObjectInfo>;
  headObject(account: string, container: string, object: string): Promise<ObjectInfo | null>;
  /** `range` is already resolved to absolute byte offsets (inclusive start, exclusive end). */
  getObject(account: string, container: string, object: string, range?: { start: number; end: number }): Promise<{ info: ObjectInfo; body: Readable } | null>;
  /** Replaces user metadata (POST semantics: fast-post), keeps data. */
  postObject(account: string, container: string, object: string, meta: ObjectMetaUpdate): Promise<ObjectInfo | null>;
  /** Writes a tombstone; false when there was nothing to delete. */
  deleteObject(account: string, container: string, object: string, timestamp: string): Promise<boolean>;
}

export interface MetadataUpdate {
  /** Header-style keys without prefix, lower-cased (e.g. 'meta-color', 'read', 'write', 'versions-location', 'quota-bytes'); '' removes. */
  set: Record<string, string>;
}

export interface AccountInfo {
  containerCount: number;
  objectCount: number;
  bytesUsed: number;
  createdAt: string;
  putTimestamp: string;
  metadata: Record<string, string>;
}

export interface ContainerInfo {
  objectCount: number;
  bytesUsed: number;
  createdAt: string;
  putTimestamp: string;
  storagePolicy: string;
  metadata: Record<string, string>;
}

export interface ListingQuery {
  prefix?: string;
  delimiter?: string;
  marker?: string;
  endMarker?: string;
  limit: number;
  reverse?: boolean;
}

export type ContainerListing = { name: string; count: number; bytes: number; lastModified: string } | { subdir: string };
export type ObjectListing = { name: string; hash: string; bytes: number; contentType: string; lastModified: string; symlinkPath?: string } | { subdir: string };

export interface ObjectWriteMeta {
  timestamp: string;
  contentType: string;
  /** Expected size: a Content-Length; undefined for chunked transfer. */
  contentLength?: number;
  /** Client-supplied ETag to verify (422 on mismatch). */
  etag?: string;
  /** x-object-meta-*, content-encoding, content-disposition, x-delete-at, x-object-manifest, x-static-large-object, x-symlink-target ... lower-cased header names. */
  headers: Record<string, string>;
  /** Largest accepted size (5 GiB default). */
  maxSize: number;
}

export interface ObjectMetaUpdate {
  timestamp: string;
  contentType?: string;
  headers: Record<string, string>;
}

export interface ObjectInfo {
  name: string;
  size: number;
  etag: string;
  contentType: string;
  timestamp: string;
  lastModified: Date;
  /** Stored headers (lower-cased): x-object-meta-*, content-encoding, content-disposition, x-delete-at, x-object-manifest, x-static-large-object, ... */
  headers: Record<string, string>;
}

export type StorageErrorKind = 'etag_mismatch' | 'too_large' | 'length_mismatch' | 'client_disconnect' | 'insufficient_storage' | 'not_found' | 'conflict';

export class StorageError extends Error {
  override name = 'StorageError';
  constructor(
    readonly kind: StorageErrorKind,
    message: string,
  ) {
    super(message);
  }
}
