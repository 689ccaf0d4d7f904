import { Type, type Static } from '@sinclair/typebox';
import { IdString, nullable, RoleRefs } from '../app-creds/schemas.js';

/** User ids may come from external identity sources: any 1..64 character string (external_id_string). */
const ExternalId = Type.String({ minLength: 1, maxLength: 64 });

/** POST /v3/OS-TRUST/trusts (trust/schema.py: unknown attributes are kept). */
export const TrustCreateBody = Type.Object({
  trust: Type.Object({
    trustor_user_id: ExternalId,
    trustee_user_id: ExternalId,
    impersonation: Type.Boolean(),
    project_id: Type.Optional(nullable(IdString)),
    remaining_uses: Type.Optional(nullable(Type.Integer({ minimum: 1 }))),
    expires_at: Type.Optional(nullable(Type.String())),
    allow_redelegation: Type.Optional(nullable(Type.Boolean())),
    redelegation_count: Type.Optional(nullable(Type.Integer({ minimum: 0 }))),
    roles: Type.Optional(RoleRefs),
  }),
});
export type TrustCreate = Static<typeof TrustCreateBody>['trust'];

/** Attributes with a meaning of their own; anything else in a create request is stored and echoed back. */
export const TRUST_KEYS = new Set([
  'id',
  'trustor_user_id',
  'trustee_user_id',
  'impersonation',
  'project_id',
  'remaining_uses',
  'expires_at',
  'allow_redelegation',
  'redelegation_count',
  'redelegated_trust_id',
  'deleted_at',
  'roles',
  'roles_links',
  'links',
]);
