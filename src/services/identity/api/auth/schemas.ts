import { Type } from '@sinclair/typebox';

const DomainRef = Type.Object({ id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) });
const UserRef = Type.Object({
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  domain: Type.Optional(DomainRef),
});

/** POST /v3/auth/tokens, as Keystone's auth schema accepts it. */
export const AuthTokensBody = Type.Object({
  auth: Type.Object({
    identity: Type.Object({
      methods: Type.Array(Type.String()),
      password: Type.Optional(Type.Object({ user: Type.Intersect([UserRef, Type.Object({ password: Type.String({ maxLength: 4096 }) })]) })),
      token: Type.Optional(Type.Object({ id: Type.String({ maxLength: 4096 }) })),
      application_credential: Type.Optional(
        Type.Object({
          id: Type.Optional(Type.String({ maxLength: 64 })),
          name: Type.Optional(Type.String({ maxLength: 255 })),
          secret: Type.String({ maxLength: 4096 }),
          user: Type.Optional(UserRef),
        }),
      ),
      totp: Type.Optional(Type.Unknown()),
    }),
    scope: Type.Optional(
      Type.Union([
        Type.Literal('unscoped'),
        Type.Object({
          project: Type.Optional(Type.Object({ id: Type.Optional(Type.String({ maxLength: 64 })), name: Type.Optional(Type.String({ maxLength: 64 })), domain: Type.Optional(DomainRef) })),
          domain: Type.Optional(DomainRef),
          system: Type.Optional(Type.Object({ all: Type.Optional(Type.Boolean()) })),
          'OS-TRUST:trust': Type.Optional(Type.Object({ id: Type.String({ maxLength: 64 }) })),
        }),
      ]),
    ),
  }),
});
