import { Type, type TSchema } from '@sinclair/typebox';

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Keystone's resource name: 1..64 characters with at least one non-blank. */
export const ResourceName = Type.String({ minLength: 1, maxLength: 64, pattern: '[\\S]+' });
const IdString = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9-]+$' });
/** The API-WG tag rules: 1..255 characters, no '/' or ','. */
export const TAG_PATTERN = /^[^,/]*$/;
export const ProjectTag = Type.String({ minLength: 1, maxLength: 255, pattern: '^[^,/]*$' });
export const MAX_TAGS = 80;
export const ProjectTags = Type.Array(ProjectTag, { maxItems: MAX_TAGS, uniqueItems: true });
/** The registered resource options; each may be null to reset it. */
export const ResourceOptions = Type.Object({ immutable: Type.Optional(nullable(Type.Boolean())) }, { additionalProperties: false });

const projectProperties = {
  description: Type.Optional(nullable(Type.String())),
  domain_id: Type.Optional(nullable(IdString)),
  enabled: Type.Optional(Type.Boolean()),
  is_domain: Type.Optional(Type.Boolean()),
  parent_id: Type.Optional(nullable(IdString)),
  tags: Type.Optional(ProjectTags),
  options: Type.Optional(ResourceOptions),
};

/** POST /v3/projects: unknown attributes are kept as extras. */
export const ProjectCreateBody = Type.Object({ project: Type.Object({ name: ResourceName, ...projectProperties }) });

/** PATCH /v3/projects/{id}: at least one attribute. */
export const ProjectUpdateBody = Type.Object({ project: Type.Object({ name: Type.Optional(ResourceName), ...projectProperties }, { minProperties: 1 }) });

/** PUT /v3/projects/{id}/tags */
export const ProjectTagsBody = Type.Object({ tags: ProjectTags });
