import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ObjectInfo } from '../storage/types.js';
import { header, httpDate, type ObjectStoreApi, type SwiftRequest } from './context.js';
import { swiftError } from './faults.js';
import type { ByteSource } from './range.js';
import { storeObject } from './object.js';
import { BulkResponder } from './bulk-format.js';

/**
 * Large objects: DLO (X-Object-Manifest: "<container>/<prefix>", segments found by listing) and
 * SLO (?multipart-manifest=put with a JSON list of segments; the manifest is stored as the object
 * body with X-Static-Large-Object). Both read as the concatenation of their segments.
 */

interface Segment {
  account: string;
  container: string;
  object: string;
  /** Bytes of the segment used: [start, end). */
  start: number;
  end: number;
}

interface StoredSloSegment {
  name: string;
  hash: string;
  bytes: number;
  content_type?: string;
  last_modified?: string;
  range?: string;
}

const MAX_DEPTH = 10;

function concatSource(api: ObjectStoreApi, segments: Segment[], contentType: string, depth: number): ByteSource {
  const size = segments.reduce((n, g) => n + (g.end - g.start), 0);
  return {
    size,
    contentType,
    async read(start, end) {
      async function* chunks(): AsyncGenerator<Buffer> {
        let offset = 0;
        for (const g of segments) {
          const len = g.end - g.start;
          const from = Math.max(start, offset);
          const to = Math.min(end, offset + len);
          offset += len;
          if (from >= to) continue;
          const info = await api.cluster.headObject(g.account, g.container, g.object);
          if (!info) throw swiftError(409, `Object segment no longer valid: /${g.container}/${g.object}`);
          const nested = depth < MAX_DEPTH ? await sourceOf(api, g.account, g.container, info, depth + 1) : null;
          const src = nested ?? plainRead(api, g, info);
          const body = await src.read(g.start + (from - (offset - len)), g.start + (to - (offset - len)));
          for await (const c of body) yield c as Buffer;
        }
      }
      return Readable.from(chunks());
    },
  };
}

function plainRead(api: ObjectStoreApi, g: Segment, info: ObjectInfo): ByteSource {
  return {
    size: info.size,
    contentType: info.contentType,
    async read(start, end) {
      const got = await api.cluster.getObject(g.account, g.container, g.object, start === 0 && end === info.size ? undefined : { start, end });
      if (!got) throw swiftError(409, `Object segment no longer valid: /${g.container}/${g.object}`);
      return got.body;
    },
  };
}

async function dloSegments(api: ObjectStoreApi, account: string, manifest: string): Promise<{ segments: Segment[]; etag: string }> {
  let decoded = manifest;
  try {
    decoded = decodeURIComponent(manifest);
  } catch {
    /* keep as given */
  }
  const slash = decoded.indexOf('/');
  const container = slash < 0 ? decoded : decoded.slice(0, slash);
  const prefix = slash < 0 ? '' : decoded.slice(slash + 1);
  const segments: Segment[] = [];
  const md5 = createHash('md5');
  let marker: string | undefined;
  for (;;) {
    const page = (await api.cluster.listObjects(account, container, { prefix, limit: 10000, ...(marker ? { marker } : {}) })) ?? [];
    for (const row of page) {
      if ('subdir' in row) continue;
      segments.push({ account, container, object: row.name, start: 0, end: row.bytes });
      md5.update(row.hash);
      marker = row.name;
    }
    if (page.length < 10000) break;
  }
  return { segments, etag: `"${md5.digest('hex')}"` };
}

function parseStored(body: string): StoredSloSegment[] {
  try {
    const parsed = JSON.parse(body) as unknown;
    return Array.isArray(parsed) ? (parsed as StoredSloSegment[]) : [];
  } catch {
    return [];
  }
}

async function readAll(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
    n += b.length;
    if (n > limit) throw swiftError(413, 'Manifest File > ' + limit + ' bytes');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function sloSegments(api: ObjectStoreApi, account: string, container: string, info: ObjectInfo): Promise<Segment[]> {
  const got = await api.cluster.getObject(account, container, info.name);
  if (!got) throw swiftError(404);
  const stored = parseStored(await readAll(got.body, api.config.max_manifest_size * 4));
  return stored.map((seg) => {
    const name = seg.name.replace(/^\//, '');
    const slash = name.indexOf('/');
    const [start, end] = seg.range ? seg.range.split('-').map(Number) as [number, number] : [0, seg.bytes - 1];
    return { account, container: name.slice(0, slash), object: name.slice(slash + 1), start, end: end + 1 };
  });
}

async function sourceOf(api: ObjectStoreApi, account: string, container: string, info: ObjectInfo, depth: number): Promise<ByteSource | null> {
  if (info.headers['x-static-large-object']) return concatSource(api, await sloSegments(api, account, container, info), info.contentType, depth);
  const manifest = info.headers['x-object-manifest'];
  if (manifest) return concatSource(api, (await dloSegments(api, account, manifest)).segments, info.contentType, depth);
  return null;
}

/** The concatenated view of a manifest object with its ETag/size headers; null for plain objects. */
export async function largeObjectSource(api: ObjectStoreApi, s: SwiftRequest, info: ObjectInfo): Promise<{ source: ByteSource; headers: Record<string, string> } | null> {
  const { account, container } = s.path as Required<SwiftRequest['path']>;
  if (info.headers['x-static-large-object']) {
    const source = concatSource(api, await sloSegments(api, account, container, info), info.contentType, 0);
    const etag = info.headers['x-object-sysmeta-slo-etag'] ?? info.etag;
    return { source, headers: { etag: `"${etag}"`, 'x-static-large-object': 'True' } };
  }
  const manifest = info.headers['x-object-manifest'];
  if (manifest) {
    const { segments, etag } = await dloSegments(api, account, manifest);
    return { source: concatSource(api, segments, info.contentType, 0), headers: { etag } };
  }
  return null;
}

interface SloInput {
  path: string;
  etag?: string | null;
  size_bytes?: number | null;
  range?: string;
}

/** ?multipart-manifest=put: validates every segment (HEAD), stores the manifest, answers the SLO ETag. */
export async function putSloManifest(api: ObjectStoreApi, s: SwiftRequest, headers: Record<string, string>): Promise<void> {
  const account = s.path.account;
  const text = await readAll(s.request.raw, api.config.max_manifest_size);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw swiftError(400, 'Manifest must be valid JSON.\n');
  }
  if (!Array.isArray(parsed)) throw swiftError(400, 'Manifest must be a list.\n');
  if (parsed.length === 0) throw swiftError(400, 'Manifest must have at least one segment.\n');
  if (parsed.length > api.config.max_manifest_segments) throw swiftError(413, `Number of segments must be <= ${api.config.max_manifest_segments}`);
  const errors: string[] = [];
  const stored: StoredSloSegment[] = [];
  const md5 = createHash('md5');
  let total = 0;
  for (const raw of parsed as SloInput[]) {
    if (typeof raw !== 'object' || raw === null || typeof raw.path !== 'string') {
      throw swiftError(400, 'Index 0: "path" must be a string\n');
    }
    const path = raw.path.replace(/^\//, '');
    const slash = path.indexOf('/');
    if (slash <= 0 || slash === path.length - 1) {
      errors.push(`${raw.path}, 400 Bad Request`);
      continue;
    }
    const container = path.slice(0, slash);
    const object = path.slice(slash + 1);
    const info = await api.cluster.headObject(account, container, object);
    if (!info) {
      errors.push(`/${path}, 404 Not Found`);
      continue;
    }
    const isSlo = Boolean(info.headers['x-static-large-object']);
    const size = isSlo ? Number(info.headers['x-object-sysmeta-slo-size'] ?? info.size) : info.size;
    const etag = isSlo ? info.headers['x-object-sysmeta-slo-etag'] ?? info.etag : info.etag;
    if (raw.etag && raw.etag.replace(/"/g, '').toLowerCase() !== etag) errors.push(`/${path}, Etag Mismatch`);
    if (raw.size_bytes !== undefined && raw.size_bytes !== null && Number(raw.size_bytes) !== size) errors.push(`/${path}, Size Mismatch`);
    let range: string | undefined;
    let used = size;
    if (raw.range) {
      const m = /^(\d*)-(\d*)$/.exec(raw.range.trim());
      if (!m || (m[1] === '' && m[2] === '')) {
        errors.push(`/${path}, Invalid Range`);
        continue;
      }
      const a = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1]);
      const b = m[1] === '' || m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
      if (a > b || a >= size) {
        errors.push(`/${path}, Unsatisfiable Range`);
        continue;
      }
      range = `${a}-${b}`;
      used = b - a + 1;
    }
    md5.update(range ? `${etag}:${range};` : etag);
    total += used;
    stored.push({ name: `/${path}`, hash: etag, bytes: size, content_type: info.contentType, last_modified: httpDate(info.lastModified), ...(range ? { range } : {}) });
  }
  if (errors.length) throw swiftError(400, `Errors:\n${errors.join('\n')}\n`);
  const sloEtag = md5.digest('hex');
  const given = header(s, 'etag')?.replace(/"/g, '').toLowerCase();
  if (given && given !== sloEtag) throw swiftError(422);
  const body = Buffer.from(JSON.stringify(stored));
  const contentType = s.contentType?.trim() || 'application/octet-stream';
  await storeManifest(api, s, body, contentType, {
    ...headers,
    'x-static-large-object': 'True',
    'x-object-sysmeta-slo-etag': sloEtag,
    'x-object-sysmeta-slo-size': String(total),
  });
}

async function storeManifest(api: ObjectStoreApi, s: SwiftRequest, body: Buffer, contentType: string, headers: Record<string, string>): Promise<void> {
  const sloEtag = headers['x-object-sysmeta-slo-etag'] as string;
  // the client sees the SLO's ETag, not the manifest body's
  await storeObject(api, s, { body: Readable.from([body]), contentLength: body.length, contentType, headers }, { etag: `"${sloEtag}"` });
}

/** ?multipart-manifest=delete: removes the segments, then the manifest; a bulk-delete style report. */
export async function deleteSloManifest(api: ObjectStoreApi, s: SwiftRequest): Promise<void> {
  const { account, container, object } = s.path as Required<SwiftRequest['path']>;
  const info = await api.cluster.headObject(account, container, object);
  if (!info) throw swiftError(404);
  if (!info.headers['x-static-large-object']) {
    await api.cluster.deleteObject(account, container, object, api.service.timestamp());
    s.reply.code(204).header('x-trans-id', s.request.id).send();
    return;
  }
  const segments = await sloSegments(api, account, container, info);
  let deleted = 0;
  let notFound = 0;
  for (const g of segments) {
    if (await api.cluster.deleteObject(g.account, g.container, g.object, api.service.timestamp())) deleted += 1;
    else notFound += 1;
  }
  if (await api.cluster.deleteObject(account, container, object, api.service.timestamp())) deleted += 1;
  else notFound += 1;
  BulkResponder.forRequest(s, 'delete').finish({ fields: { 'Response Status': '200 OK', 'Response Body': '', 'Number Deleted': deleted, 'Number Not Found': notFound }, errors: [] });
}
