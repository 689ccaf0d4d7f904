import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Config } from '../../../common/config/index.js';
import { ConfigError } from '../../../common/config/options.js';
import { randomSecret } from '../../../common/ids.js';
import { storeOfLocation, type ImageLocation } from '../model/image.js';
import { FilesystemImageStore } from './filesystem.js';
import { HttpImageStore } from './http.js';
import type { InProcessHttp } from './in-process-http.js';
import { SwiftImageStore } from './object-store.js';
import { SwiftClient, provisionServiceUser } from './swift-client.js';
import type { ImageStore } from './types.js';

/** One configured store, as GET /v2/info/stores and /detail describe it. */
export interface StoreEntry {
  id: string;
  /** glance_store driver name: file, swift, ... */
  type: string;
  description: string;
  /** Data can only be read (Glance's http store): no uploads, imports or copies into it. */
  readOnly: boolean;
  weight: number;
  store: ImageStore;
  /** Driver settings /v2/info/stores/detail shows to admins. */
  properties: Record<string, unknown>;
}

export interface StoreContext {
  id: string;
  config: Config;
  http: InProcessHttp;
}

type StoreFactory = (ctx: StoreContext) => Pick<StoreEntry, 'store' | 'properties' | 'readOnly' | 'description'>;

const MiB = 1 << 20;

/** Store drivers by the type named in enabled_backends; a new driver registers itself here. */
export const STORE_TYPES: Record<string, StoreFactory> = {
  file: ({ id, config }) => {
    const dir = pairs(config.image.filesystem_store_datadirs).get(id) ?? (id === 'file' ? 'images' : `images-${id}`);
    const root = isAbsolute(dir) ? dir : join(config.server.data_dir, dir);
    return { store: new FilesystemImageStore(root), readOnly: false, description: 'Filesystem store', properties: { data_dir: root, chunk_size: 65536, thin_provisioning: false } };
  },
  // Glance's read-only http store: images whose data stays behind a URL (loopback hosts only here).
  http: () => ({ store: new HttpImageStore(), readOnly: true, description: 'HTTP store (read only; loopback URLs)', properties: {} }),
  swift: ({ config, http }) => {
    const image = config.image;
    const chunkSize = image.swift_store_large_object_chunk_size * MiB;
    const client = new SwiftClient(http.request, {
      user: image.swift_store_user,
      project: image.swift_store_project,
      domain: 'default',
      password: async () => image.swift_store_key ?? readOrCreateSecret(join(config.server.data_dir, 'image-swift-password')),
      ...(image.swift_store_key
        ? {}
        : {
            provision: (password: string) =>
              provisionServiceUser(http.request, { password: adminPassword(config), domain: 'default' }, { user: image.swift_store_user, project: image.swift_store_project, domain: 'default', password }),
          }),
    });
    return {
      store: new SwiftImageStore(client, image.swift_store_container, chunkSize),
      readOnly: false,
      description: 'Object storage (Swift API)',
      properties: { container: image.swift_store_container, large_object_size: 0, large_object_chunk_size: image.swift_store_large_object_chunk_size },
    };
  },
};

/** The enabled stores (Glance's enabled_backends) and which one is the default. */
export class StoreRegistry {
  private readonly byId: Map<string, StoreEntry>;

  constructor(readonly entries: readonly StoreEntry[], readonly defaultId: string) {
    this.byId = new Map(entries.map((e) => [e.id, e]));
    if (!this.byId.has(defaultId)) throw new ConfigError(`image.default_backend: "${defaultId}" is not one of image.enabled_backends`);
  }

  find(id: string): StoreEntry | undefined {
    return this.byId.get(id);
  }

  get default(): StoreEntry {
    return this.byId.get(this.defaultId) as StoreEntry;
  }

  /** Stores data can be written to (every store but read-only ones), in configuration order. */
  writable(): StoreEntry[] {
    return this.entries.filter((e) => !e.readOnly);
  }

  locationFor(id: string, key: string): ImageLocation {
    const entry = this.byId.get(id);
    if (!entry) throw new Error(`unknown store ${id}`);
    return { url: entry.store.locationUrl(key), metadata: { store: id } };
  }

  /** The store and key a location points at; null when no enabled store owns it. */
  resolve(location: ImageLocation): { entry: StoreEntry; key: string } | null {
    const id = storeOfLocation(location);
    const candidates = id ? [this.byId.get(id)].filter((e): e is StoreEntry => e !== undefined) : this.entries;
    for (const entry of candidates) {
      const key = entry.store.keyOf(location.url);
      if (key !== null) return { entry, key };
    }
    return null;
  }
}

export function buildStoreRegistry(config: Config, http: InProcessHttp): StoreRegistry {
  const descriptions = pairs(config.image.store_descriptions);
  const entries: StoreEntry[] = [];
  for (const spec of config.image.enabled_backends.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [id = '', type = ''] = spec.split(':').map((s) => s.trim());
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id) || id.startsWith('os_glance_')) throw new ConfigError(`image.enabled_backends: invalid store id "${id}"`);
    const factory = STORE_TYPES[type];
    if (!factory) throw new ConfigError(`image.enabled_backends: store "${id}" has unknown type "${type}" (known: ${Object.keys(STORE_TYPES).join(', ')})`);
    if (entries.some((e) => e.id === id)) throw new ConfigError(`image.enabled_backends: store "${id}" is listed twice`);
    const made = factory({ id, config, http });
    entries.push({ id, type, weight: 0, ...made, description: descriptions.get(id) ?? made.description });
  }
  if (!entries.length) throw new ConfigError('image.enabled_backends: at least one store is needed');
  return new StoreRegistry(entries, config.image.default_backend);
}

/** `a=x;b=y` into a map. */
function pairs(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of text.split(';')) {
    const at = part.indexOf('=');
    if (at > 0) map.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return map;
}

function readOrCreateSecret(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const secret = randomSecret(18);
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another login of this process got there first: use its secret.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path, 'utf8').trim();
    throw err;
  }
  return secret;
}

/** The bootstrap admin's password, where the identity bootstrap keeps it. */
function adminPassword(config: Config): string {
  return config.identity.admin_password ?? readFileSync(join(config.server.data_dir, 'admin-password'), 'utf8').trim();
}
