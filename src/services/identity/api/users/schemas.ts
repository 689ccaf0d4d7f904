import { Type, type TSchema } from '@sinclair/typebox';

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Keystone's _identity_name: 1..255 characters with at least one non-blank. */
export const UserName = Type.String({ minLength: 1, maxLength: 255, pattern: '\\S' });
/** parameter_types.id_string. */
export const IdString = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9-]+$' });

const Flag = Type.Optional(nullable(Type.Boolean()));

/** The user resource options Keystone registers; any other key is refused, null clears one. */
export const UserOptions = Type.Object(
  {
    ignore_change_password_upon_first_use: Flag,
    ignore_password_expiry: Flag,
    ignore_lockout_failure_attempts: Flag,
    lock_password: Flag,
    ignore_user_inactivity: Flag,
    multi_factor_auth_rules: Type.Optional(
      nullable(Type.Array(Type.Array(Type.String(), { minItems: 1, uniqueItems: true }), { uniqueItems: true })),
    ),
    multi_factor_auth_enabled: Flag,
  },
  { additionalProperties: false },
);

const Federated = Type.Array(
  Type.Object({
    idp_id: Type.String(),
    protocols: Type.Array(Type.Object({ protocol_id: Type.String(), unique_id: Type.String() }), { minItems: 1 }),
  }),
);

const userProperties = {
  default_project_id: Type.Optional(nullable(IdString)),
  description: Type.Optional(nullable(Type.String())),
  domain_id: Type.Optional(IdString),
  enabled: Type.Optional(Type.Boolean()),
  federated: Type.Optional(Federated),
  password: Type.Optional(nullable(Type.String())),
  options: Type.Optional(UserOptions),
};

/** POST /v3/users (identity/schema.py user_create): unknown attributes are kept as extras. */
export const CreateUserBody = Type.Object({
  user: Type.Object({ name: UserName, ...userProperties }, { additionalProperties: true }),
});

/** PATCH /v3/users/{user_id}: at least one attribute. */
export const UpdateUserBody = Type.Object({
  user: Type.Object({ name: Type.Optional(UserName), ...userProperties }, { additionalProperties: true, minProperties: 1 }),
});

/** POST /v3/users/{user_id}/password. */
export const ChangePasswordBody = Type.Object({
  user: Type.Object({ original_password: Type.String(), password: Type.String() }, { additionalProperties: false }),
});

/** Attributes with a meaning of their own; everything else a client sends is an extra. */
export const RESERVED_USER_KEYS = new Set(['id', 'name', 'domain_id', 'enabled', 'password', 'default_project_id', 'options', 'federated', 'password_expires_at', 'extra', 'links']);
