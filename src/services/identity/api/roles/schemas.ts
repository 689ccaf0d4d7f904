import { Type } from '@sinclair/typebox';

/** Keystone's parameter_types.name: 1..255 characters, at least one of them not blank. */
const RoleName = Type.String({ minLength: 1, maxLength: 255, pattern: '\\S' });
/** The role resource options Keystone registers (only `immutable`); null clears an option. */
const RoleOptions = Type.Object({ immutable: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])) }, { additionalProperties: false });
const DomainId = Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()]);

/** POST /v3/roles; unknown attributes are kept as extra, as Keystone does. */
export const CreateRoleBody = Type.Object({
  role: Type.Object(
    {
      name: RoleName,
      description: Type.Optional(Type.String()),
      domain_id: Type.Optional(DomainId),
      options: Type.Optional(RoleOptions),
    },
    { additionalProperties: true },
  ),
});

/** PATCH /v3/roles/{role_id}: at least one attribute. */
export const UpdateRoleBody = Type.Object({
  role: Type.Object(
    {
      name: Type.Optional(RoleName),
      description: Type.Optional(Type.String()),
      domain_id: Type.Optional(DomainId),
      options: Type.Optional(RoleOptions),
    },
    { additionalProperties: true, minProperties: 1 },
  ),
});

/** Attributes that are never stored as extra. */
export const RESERVED_ROLE_KEYS = new Set(['id', 'name', 'description', 'domain_id', 'options', 'links']);
