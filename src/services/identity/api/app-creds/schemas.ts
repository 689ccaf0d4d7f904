import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Keystone's parameter_types.id_string and name. */
export const IdString = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9-]+$' });
export const Name = Type.String({ minLength: 1, maxLength: 255, pattern: '[\\S]+' });
export const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** [{id} | {name}]: exactly one of the two per role (application_credential/schema.py, trust/schema.py). */
export const RoleRefs = Type.Array(Type.Object({ id: Type.Optional(IdString), name: Type.Optional(Name) }, { minProperties: 1, maxProperties: 1, additionalProperties: false }));

const AccessRuleRefSchema = Type.Object(
  {
    path: Type.Optional(Type.String({ minLength: 0, maxLength: 225, pattern: '^\\/.*' })),
    method: Type.Optional(Type.String({ pattern: '^(POST|GET|HEAD|PATCH|PUT|DELETE)$' })),
    service: Type.Optional(IdString),
    id: Type.Optional(IdString),
  },
  { additionalProperties: false },
);

/** POST /v3/users/{user_id}/application_credentials. */
export const AppCredCreateBody = Type.Object({
  application_credential: Type.Object({
    name: Name,
    description: Type.Optional(nullable(Type.String())),
    secret: Type.Optional(nullable(Type.String())),
    expires_at: Type.Optional(nullable(Type.String())),
    roles: Type.Optional(RoleRefs),
    unrestricted: Type.Optional(Type.Boolean()),
    access_rules: Type.Optional(Type.Array(AccessRuleRefSchema)),
  }),
});
export type AppCredCreate = Static<typeof AppCredCreateBody>['application_credential'];
