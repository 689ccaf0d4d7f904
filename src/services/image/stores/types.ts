import type { Readable } from 'node:stream';

/** An inclusive byte range of stored data, as HTTP Range gives it. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where image bytes live (Glance's glance_store driver). Keys are opaque strings chosen by the
 * service (the image id); drivers never touch the database.
 */
export interface ImageStore {
  /** Short name shown in `stores` and used as the location prefix (`file`). */
  readonly name: string;
  /**
   * Copies `data` into `key`. Resolves only once the bytes are durable (fsynced) and visible
   * under `key`, replacing any previous object atomically. If `data` errors or `signal` aborts,
   * rejects with that error and leaves no object and no temporary file behind.
   */
  put(key: string, data: Readable, signal?: AbortSignal): Promise<{ size: number }>;
  /** Streams the object (or one inclusive range of it); rejects with code ENOENT when missing. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Size of a stored object, or null when there is none. */
  stat(key: string): Promise<{ size: number } | null>;
  /** Removes the object; succeeds when it is already gone (deletes are retried jobs). */
  delete(key: string): Promise<void>;
  /** Every stored key, for reaping orphans at start. */
  list(): Promise<string[]>;
  /** Removes leftovers of puts that never finished (a crash mid-upload). */
  cleanupPartial(): Promise<number>;
  /** The location URL Glance shows for `key` in this store (`file:///...`, `swift+...`). */
  locationUrl(key: string): string;
  /** The key a location URL of this store names, or null when the URL is not one of this store's. */
  keyOf(url: string): string | null;
}

export class StoreObjectMissing extends Error {
  override readonly name = 'StoreObjectMissing';
  readonly code = 'ENOENT';
}
