import { Type } from '@sinclair/typebox';
import { IdString } from '../users/schemas.js';

/** Group names: at least one non-blank character, at most 64 (the width Keystone stores). */
const GroupName = Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' });

const groupProperties = {
  description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  domain_id: Type.Optional(IdString),
};

/** POST /v3/groups (identity/schema.py group_create); unknown attributes are kept as extras. */
export const CreateGroupBody = Type.Object({
  group: Type.Object({ name: GroupName, ...groupProperties }, { additionalProperties: true }),
});

/** PATCH /v3/groups/{group_id}: at least one attribute. */
export const UpdateGroupBody = Type.Object({
  group: Type.Object({ name: Type.Optional(GroupName), ...groupProperties }, { additionalProperties: true, minProperties: 1 }),
});

export const RESERVED_GROUP_KEYS = new Set(['id', 'name', 'domain_id', 'description', 'extra', 'links']);
