import { Type } from '@sinclair/typebox';

/** Keystone's credential/schema.py (stock Zed: an update may change any attribute). */
const properties = {
  blob: Type.Optional(Type.String()),
  project_id: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  user_id: Type.Optional(Type.String()),
};

export const CredentialCreateBody = Type.Object({
  credential: Type.Object({ ...properties, blob: Type.String(), type: Type.String({ minLength: 1, maxLength: 255 }), user_id: Type.String({ minLength: 1, maxLength: 64 }) }),
});
export const CredentialUpdateBody = Type.Object({
  credential: Type.Object({ ...properties, type: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })), user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }, { minProperties: 1 }),
});
