import { Type, type TSchema } from '@sinclair/typebox';

/** Keystone's policy/schema.py and oauth1/schema.py; unknown attributes are kept in `extra`. */
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const policyProperties = { blob: Type.Optional(Type.String()), type: Type.Optional(Type.String({ maxLength: 255 })) };
export const PolicyCreateBody = Type.Object({ policy: Type.Object({ blob: Type.String(), type: Type.String({ maxLength: 255 }) }) });
export const PolicyUpdateBody = Type.Object({ policy: Type.Object(policyProperties, { minProperties: 1 }) });

const consumerProperties = { description: Type.Optional(nullable(Type.String())) };
export const ConsumerCreateBody = Type.Object({ consumer: Type.Optional(Type.Object(consumerProperties)) });
/** The secret is the server's to choose: an update naming it is refused. */
export const ConsumerUpdateBody = Type.Object({
  consumer: Type.Object(consumerProperties, { minProperties: 1, not: Type.Object({ secret: Type.Unknown() }, { required: ['secret'] }) }),
});
