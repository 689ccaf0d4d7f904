import { Type } from '@sinclair/typebox';
import { ProjectTags, ResourceName, ResourceOptions } from '../projects/schemas.js';

const domainProperties = {
  description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  enabled: Type.Optional(Type.Boolean()),
  tags: Type.Optional(ProjectTags),
  options: Type.Optional(ResourceOptions),
};

/** POST /v3/domains: unknown attributes are kept as extras. */
export const DomainCreateBody = Type.Object({
  domain: Type.Object({ name: ResourceName, explicit_domain_id: Type.Optional(Type.String()), ...domainProperties }),
});

/** PATCH /v3/domains/{id}: at least one attribute. */
export const DomainUpdateBody = Type.Object({ domain: Type.Object({ name: Type.Optional(ResourceName), ...domainProperties }, { minProperties: 1 }) });
