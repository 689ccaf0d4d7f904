import type { ContainerInfo } from '../storage/types.js';
import { header, httpDate, sendEmpty, type ObjectStoreApi, type SwiftRequest } from './context.js';
import { swiftError } from './faults.js';
import { listingFormat, listingQuery, renderContainerListing, sendListing } from './listing.js';
import { checkMetadata, metadataHeaders, metadataUpdate } from './meta.js';
import { checkSyncTo } from './container-sync.js';

export const STORAGE_POLICIES = ['Policy-0'];

export function containerHeaders(s: SwiftRequest, info: ContainerInfo): Record<string, string> {
  return {
    'x-container-object-count': String(info.objectCount),
    'x-container-bytes-used': String(info.bytesUsed),
    'x-timestamp': info.createdAt,
    'x-put-timestamp': info.putTimestamp,
    'x-storage-policy': info.storagePolicy,
    'last-modified': httpDate(info.putTimestamp),
    'accept-ranges': 'bytes',
    ...metadataHeaders(info.metadata, 'container', s.caller.owner),
  };
}

/**
 * Container settings with Swift's rules: versioning (one mode at a time; an empty value or
 * X-Remove-*-Location turns it off), quotas (integers).
 */
function checkSettings(s: SwiftRequest, set: Record<string, string>): void {
  const versions = header(s, 'x-versions-location');
  const history = header(s, 'x-history-location');
  if (versions !== undefined && history !== undefined) {
    if (history === '') delete set['history-location'];
    else if (versions !== '') throw swiftError(400, 'Only one of x-versions-location or x-history-location may be specified', { 'content-type': 'text/plain' });
    else delete set['versions-location'];
  }
  const mode = set['versions-location'] ? 'versions-location' : set['history-location'] ? 'history-location' : undefined;
  if (mode) {
    if ((set[mode] ?? '').includes('/')) throw swiftError(412, 'Container name cannot contain slashes');
    set[mode === 'versions-location' ? 'history-location' : 'versions-location'] = '';
  } else if ('versions-location' in set || 'history-location' in set) {
    set['versions-location'] = '';
    set['history-location'] = '';
  }
  for (const key of ['meta-quota-bytes', 'meta-quota-count']) {
    const v = set[key];
    if (v && !/^\d+$/.test(v)) throw swiftError(400, 'Invalid quota value');
  }
}

export async function handleContainer(api: ObjectStoreApi, s: SwiftRequest): Promise<void> {
  const { account } = s.path;
  const container = s.path.container as string;
  switch (s.method) {
    case 'HEAD':
    case 'GET': {
      const { format, contentType } = listingFormat(s);
      const query = listingQuery(s, api.config.container_listing_limit);
      const info = s.container;
      if (!info) throw swiftError(404);
      const headers = containerHeaders(s, info);
      if (s.method === 'HEAD') {
        sendListing(s, contentType, '', headers);
        return;
      }
      let items = (await api.cluster.listObjects(account, container, query)) ?? [];
      if (query.path !== undefined) items = items.filter((i) => !('subdir' in i));
      sendListing(s, contentType, renderContainerListing(format, container, items), headers);
      return;
    }
    case 'PUT': {
      checkMetadata(s.headers, 'container', api.config);
      const set = metadataUpdate(s.headers, 'container', s.caller.owner);
      checkSettings(s, set);
      checkSyncTo(api, set);
      const policy = header(s, 'x-storage-policy');
      if (policy !== undefined) {
        const match = STORAGE_POLICIES.find((p) => p.toLowerCase() === policy.trim().toLowerCase());
        if (!match) throw swiftError(400, `Invalid X-Storage-Policy '${policy}'`);
        if (s.container && s.container.storagePolicy !== match) throw swiftError(409);
        set['storage-policy'] = match;
      }
      const { created } = await api.cluster.putContainer(account, container, { set }, api.service.timestamp());
      sendEmpty(s, created ? 201 : 202);
      return;
    }
    case 'POST': {
      if (!s.container) throw swiftError(404);
      checkMetadata(s.headers, 'container', api.config);
      const set = metadataUpdate(s.headers, 'container', s.caller.owner);
      checkSettings(s, set);
      checkSyncTo(api, set);
      const info = await api.cluster.updateContainer(account, container, { set });
      if (!info) throw swiftError(404);
      sendEmpty(s, 204);
      return;
    }
    case 'DELETE': {
      const result = await api.cluster.deleteContainer(account, container, api.service.timestamp());
      if (result === 'not_found') throw swiftError(404);
      if (result === 'conflict') throw swiftError(409);
      sendEmpty(s, 204);
      return;
    }
    default:
      throw swiftError(405, undefined, { allow: 'HEAD, GET, PUT, POST, DELETE' });
  }
}
