import type { AccountInfo } from '../storage/types.js';
import { header, httpDate, sendEmpty, type ObjectStoreApi, type SwiftRequest } from './context.js';
import { STORAGE_POLICIES } from './container.js';
import { swiftError } from './faults.js';
import { listingFormat, listingQuery, renderAccountListing, sendListing } from './listing.js';
import { checkMetadata, metadataHeaders, metadataUpdate } from './meta.js';

function accountHeaders(s: SwiftRequest, info: AccountInfo | null, now: string): Record<string, string> {
  const headers: Record<string, string> = {
    'x-account-container-count': String(info?.containerCount ?? 0),
    'x-account-object-count': String(info?.objectCount ?? 0),
    'x-account-bytes-used': String(info?.bytesUsed ?? 0),
    'x-timestamp': info?.createdAt ?? now,
    'x-put-timestamp': info?.putTimestamp ?? now,
    'accept-ranges': 'bytes',
  };
  if (info) {
    headers['last-modified'] = httpDate(info.putTimestamp);
    // per-policy usage, as the account server reports for every policy it has seen a container of
    if (info.containerCount > 0 || info.objectCount > 0) {
      const policy = `x-account-storage-policy-${STORAGE_POLICIES[0].toLowerCase()}`;
      headers[`${policy}-container-count`] = String(info.containerCount);
      headers[`${policy}-object-count`] = String(info.objectCount);
      headers[`${policy}-bytes-used`] = String(info.bytesUsed);
    }
    Object.assign(headers, metadataHeaders(info.metadata, 'account', s.caller.owner));
  }
  return headers;
}

export async function handleAccount(api: ObjectStoreApi, s: SwiftRequest): Promise<void> {
  const { account } = s.path;
  switch (s.method) {
    case 'HEAD':
    case 'GET': {
      const { format, contentType } = listingFormat(s);
      const query = listingQuery(s, api.config.account_listing_limit);
      // account_autocreate: a never-used account answers as an empty one
      const info = await api.cluster.headAccount(account);
      const headers = accountHeaders(s, info, api.service.timestamp());
      if (s.method === 'HEAD') {
        sendListing(s, contentType, '', headers);
        return;
      }
      const items = info ? await api.cluster.listContainers(account, query) : [];
      sendListing(s, contentType, renderAccountListing(format, account, items), headers);
      return;
    }
    case 'POST': {
      checkMetadata(s.headers, 'account', api.config);
      const set = metadataUpdate(s.headers, 'account', s.caller.owner);
      // account quotas are the reseller's to set (account_quotas middleware)
      if (!s.caller.reseller && Object.keys(set).some((k) => k.startsWith('meta-quota-'))) throw swiftError(403);
      const quota = header(s, 'x-account-meta-quota-bytes');
      if (quota !== undefined && quota !== '' && !/^\d+$/.test(quota)) throw swiftError(400);
      await api.cluster.updateAccount(account, { set });
      sendEmpty(s, 204);
      return;
    }
    default:
      // allow_account_management = false: accounts come and go with projects
      throw swiftError(405, undefined, { allow: 'HEAD, GET, POST' });
  }
}
