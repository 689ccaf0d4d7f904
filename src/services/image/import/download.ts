import { readBody, readJson } from '../stores/in-process-http.js';
import { storeOfLocation } from '../model/image.js';
import { SizeLimit, through } from './staging.js';
import { fetchLoopback, filterImportUri } from './sources.js';
import { ImportAbort, type ImportView } from './image-state.js';
import type { ImportService } from './service.js';

/** web-download: GET the (already filtered) URI into the staging area. */
export async function downloadToStaging(svc: ImportService, id: string, uri: URL, signal: AbortSignal, headers: Record<string, string> = {}): Promise<number> {
  const got = await fetchLoopback(svc.image.http, svc.selfOrigin, uri, headers, signal);
  if (got.status !== 200) {
    got.body.destroy();
    throw new Error(`HTTP Error ${got.status} fetching ${uri.href}`);
  }
  const limit = new SizeLimit(svc.image.config.image_size_cap);
  try {
    await svc.staging.put(id, through(got.body, limit), signal);
  } catch (err) {
    await svc.staging.delete(id);
    throw err;
  }
  if (got.contentLength !== null && limit.size !== got.contentLength) {
    await svc.staging.delete(id);
    throw new Error(`downloaded data size ${limit.size} is different from expected ${got.contentLength}`);
  }
  return limit.size;
}

/** What glance-download changed on the image before its data arrived, to put back on failure. */
export interface MetadataUndo {
  diskFormat: string | null;
  containerFormat: string | null;
  properties(current: Record<string, string>): Record<string, string>;
}

interface CatalogBody {
  catalog: { type: string; endpoints: { region: string | null; region_id?: string | null; interface: string; url: string }[] }[];
}

/**
 * glance-download: finds the image endpoint of `region`/`iface` in the requesting user's catalog,
 * copies the source image's disk/container formats and the configured property prefixes, then
 * downloads its data into staging with the user's token (loopback endpoints only).
 */
export async function downloadGlanceImage(
  svc: ImportService,
  id: string,
  src: { region: string; imageId: string; iface: string; token: string },
  signal: AbortSignal,
  remember: (undo: MetadataUndo) => void,
): Promise<void> {
  const http = svc.image.http;
  const catalogRes = await http.request({ method: 'GET', path: '/identity/v3/auth/catalog', headers: { 'x-auth-token': src.token } });
  if (catalogRes.status !== 200) throw new Error(`could not read the service catalog: ${catalogRes.status} ${(await readBody(catalogRes)).toString().slice(0, 200)}`);
  const { catalog } = await readJson<CatalogBody>(catalogRes);
  const endpoint = catalog
    .filter((s) => s.type === 'image')
    .flatMap((s) => s.endpoints)
    .find((e) => (e.region ?? e.region_id ?? '').toLowerCase() === src.region.toLowerCase() && e.interface === src.iface);
  if (!endpoint) throw new Error(`${src.iface} glance endpoint not found for region ${src.region}`);
  const base = endpoint.url.replace(/\/+$/, '');
  const metaUrl = filterImportUri(`${base}/v2/images/${src.imageId}`, 'glance-download');
  const auth = { 'x-auth-token': src.token, accept: 'application/json' };
  const meta = await fetchLoopback(http, svc.selfOrigin, metaUrl, auth, signal);
  const text = (await readBody({ status: meta.status, headers: {}, body: meta.body })).toString('utf8');
  if (meta.status !== 200) throw new Error(`HTTP Error ${meta.status} fetching ${metaUrl.href}`);
  const data = JSON.parse(text) as Record<string, unknown>;
  if (data.status !== 'active') throw new Error(`Source image status should be active instead of ${String(data.status)}`);
  const prefixes = svc.image.config.glance_download_properties.split(',').map((p) => p.trim()).filter(Boolean);
  const copied: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'string' && !key.startsWith('os_glance') && prefixes.some((p) => key.startsWith(p))) copied[key] = value;
  }
  let before: ImportView | null = null;
  await svc.state.mutate(id, (img) => {
    before = img;
    return {
      properties: { ...img.properties, ...copied },
      diskFormat: typeof data.disk_format === 'string' ? data.disk_format : img.diskFormat,
      containerFormat: typeof data.container_format === 'string' ? data.container_format : img.containerFormat,
    };
  });
  const old = before as ImportView | null;
  if (!old) throw new ImportAbort('Image has been deleted, aborting import.');
  const undo: MetadataUndo = {
    diskFormat: old.diskFormat,
    containerFormat: old.containerFormat,
    properties: (current) => {
      const restored = { ...current };
      for (const key of Object.keys(copied)) {
        if (key in old.properties) restored[key] = old.properties[key] as string;
        else delete restored[key];
      }
      return restored;
    },
  };
  remember(undo);
  try {
    const expected = Number(data.size);
    const size = await downloadToStaging(svc, id, filterImportUri(`${base}/v2/images/${src.imageId}/file`, 'glance-download'), signal, { 'x-auth-token': src.token });
    if (!Number.isFinite(expected)) throw new Error(`Size attribute of remote image ${src.imageId} could not be determined.`);
    if (size !== expected) throw new Error(`downloaded data size ${size} is different from expected ${expected}`);
  } catch (err) {
    await svc.staging.delete(id);
    throw err;
  }
}

/** copy-image: the image's bytes into staging from the default store's copy, else any other one. */
export async function stageCopyOf(svc: ImportService, image: ImportView, signal: AbortSignal): Promise<void> {
  const staged = await svc.staging.stat(image.id);
  if (staged && staged.size === image.size) return;
  const stores = svc.image.stores;
  const ordered = [...image.locations].sort((a, b) => Number(storeOfLocation(b) === stores.defaultId) - Number(storeOfLocation(a) === stores.defaultId));
  for (const location of ordered) {
    const found = stores.resolve(location);
    if (!found) continue;
    try {
      await svc.staging.put(image.id, await found.entry.store.get(found.key), signal);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
    }
  }
  throw new Error('Image not found in any configured store');
}
