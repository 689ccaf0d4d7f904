import type { Consumer, Policy } from '../../managers/extras.js';

export function renderPolicy(v3Url: string, policy: Policy): Record<string, unknown> {
  return { ...policy.extra, id: policy.id, type: policy.type, blob: policy.blob, links: { self: `${v3Url}/policies/${policy.id}` } };
}

/** The secret appears only in the create response. */
export function renderConsumer(v3Url: string, consumer: Consumer & { secret?: string }): Record<string, unknown> {
  const body: Record<string, unknown> = {
    ...consumer.extra,
    id: consumer.id,
    description: consumer.description,
    links: { self: `${v3Url}/OS-OAUTH1/consumers/${consumer.id}` },
  };
  if (consumer.secret !== undefined) body.secret = consumer.secret;
  return body;
}
