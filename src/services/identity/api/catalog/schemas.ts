import { Type, type TSchema } from '@sinclair/typebox';

/** Keystone's catalog/schema.py; unknown attributes are allowed and kept in `extra`. */

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Name = Type.String({ minLength: 1, maxLength: 255, pattern: '\\S' });
/** Keystone's parameter_types.url: lenient, a scheme then anything. */
const Url = Type.String({ minLength: 0, maxLength: 225, pattern: '^[a-zA-Z0-9+.-]+:.+' });

const regionProperties = {
  id: Type.Optional(Type.String()),
  description: Type.Optional(nullable(Type.String())),
  parent_region_id: Type.Optional(nullable(Type.String())),
};
export const RegionCreateBody = Type.Object({ region: Type.Object(regionProperties) });
export const RegionUpdateBody = Type.Object({ region: Type.Object(regionProperties, { minProperties: 1 }) });

const serviceProperties = {
  enabled: Type.Optional(Type.Boolean()),
  name: Type.Optional(Name),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
};
export const ServiceCreateBody = Type.Object({
  service: Type.Object({ ...serviceProperties, type: Type.String({ minLength: 1, maxLength: 255 }) }),
});
export const ServiceUpdateBody = Type.Object({ service: Type.Object(serviceProperties, { minProperties: 1 }) });

const endpointProperties = {
  enabled: Type.Optional(Type.Boolean()),
  interface: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('internal'), Type.Literal('public')])),
  region_id: Type.Optional(Type.String()),
  region: Type.Optional(Type.String()),
  service_id: Type.Optional(Type.String()),
  url: Type.Optional(Url),
};
export const EndpointCreateBody = Type.Object({
  endpoint: Type.Object({
    ...endpointProperties,
    interface: Type.Union([Type.Literal('admin'), Type.Literal('internal'), Type.Literal('public')]),
    service_id: Type.String(),
    url: Url,
  }),
});
export const EndpointUpdateBody = Type.Object({ endpoint: Type.Object(endpointProperties, { minProperties: 1 }) });

const endpointGroupProperties = {
  description: Type.Optional(nullable(Type.String())),
  filters: Type.Optional(Type.Object({})),
  name: Type.Optional(Name),
};
export const EndpointGroupCreateBody = Type.Object({
  endpoint_group: Type.Object({ ...endpointGroupProperties, name: Name, filters: Type.Object({}) }),
});
export const EndpointGroupUpdateBody = Type.Object({ endpoint_group: Type.Object(endpointGroupProperties, { minProperties: 1 }) });
