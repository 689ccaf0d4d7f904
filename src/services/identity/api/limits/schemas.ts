import { Type, type TSchema } from '@sinclair/typebox';

/** Keystone's limit/schema.py: closed objects, limits between -1 and a signed 32-bit maximum. */
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const IdString = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9-]+$' });
const ResourceName = Type.String({ minLength: 1, maxLength: 255 });
const LimitValue = Type.Integer({ minimum: -1, maximum: 0x7fffffff });
const Description = Type.Optional(nullable(Type.String()));

const registered = {
  service_id: IdString,
  region_id: Type.Optional(nullable(Type.String())),
  resource_name: ResourceName,
  default_limit: LimitValue,
  description: Description,
};
export const RegisteredLimitsCreateBody = Type.Object({
  registered_limits: Type.Array(Type.Object(registered, { additionalProperties: false }), { minItems: 1 }),
});
export const RegisteredLimitUpdateBody = Type.Object({
  registered_limit: Type.Partial(Type.Object(registered, { additionalProperties: false })),
});

const limitCommon = {
  service_id: IdString,
  region_id: Type.Optional(Type.String()),
  resource_name: ResourceName,
  resource_limit: LimitValue,
  description: Description,
};
export const LimitsCreateBody = Type.Object({
  limits: Type.Array(
    Type.Union([
      Type.Object({ ...limitCommon, project_id: IdString }, { additionalProperties: false }),
      Type.Object({ ...limitCommon, domain_id: IdString }, { additionalProperties: false }),
    ]),
    { minItems: 1 },
  ),
});
export const LimitUpdateBody = Type.Object({
  limit: Type.Object({ resource_limit: Type.Optional(LimitValue), description: Description }, { additionalProperties: false }),
});
