import { ruleDefault, type RuleDefault } from '../../common/policy/index.js';
import { METADEF_POLICIES } from './metadefs/policies.js';
import { CACHE_POLICIES } from './cache/policies.js';
import { IMPORT_POLICIES } from './import/policies.js';

const rule = ruleDefault;

/**
 * Glance's rules as Zed behaves with enforce_new_defaults=False. Names carry an `image:` prefix
 * because every service shares one enforcer (Glance's own names are unprefixed: `publicize_image`
 * here is `image:publicize_image`). Ownership and visibility are enforced in service.ts, as
 * Glance's authorization layer does, so most rules only gate the API call.
 */
export const IMAGE_POLICIES: RuleDefault[] = [
  rule('image:context_is_admin', 'role:admin', 'Who counts as an image admin (sees and changes every image).'),
  rule('image:add_image', '', 'POST /v2/images'),
  rule('image:get_image', '', 'GET /v2/images/{image_id}'),
  rule('image:get_images', '', 'GET /v2/images'),
  rule('image:modify_image', '', 'PATCH /v2/images/{image_id}'),
  rule('image:delete_image', '', 'DELETE /v2/images/{image_id}'),
  rule('image:publicize_image', 'role:admin', "Set visibility 'public'."),
  rule('image:communitize_image', '', "Set visibility 'community'."),
  rule('image:upload_image', '', 'PUT /v2/images/{image_id}/file'),
  rule('image:download_image', '', 'GET /v2/images/{image_id}/file'),
  rule('image:deactivate', '', 'POST /v2/images/{image_id}/actions/deactivate'),
  rule('image:reactivate', '', 'POST /v2/images/{image_id}/actions/reactivate'),
  rule('image:add_member', '', 'POST /v2/images/{image_id}/members'),
  rule('image:get_members', '', 'GET /v2/images/{image_id}/members'),
  rule('image:get_member', '', 'GET /v2/images/{image_id}/members/{member_id}'),
  rule('image:modify_member', '', 'PUT /v2/images/{image_id}/members/{member_id}'),
  rule('image:delete_member', '', 'DELETE /v2/images/{image_id}/members/{member_id}'),
  rule('image:set_image_location', '', 'Add or replace image locations (PATCH /locations).'),
  rule('image:delete_image_location', '', 'Remove image locations (PATCH remove /locations/N).'),
  ...METADEF_POLICIES,
  ...CACHE_POLICIES,
  ...IMPORT_POLICIES,
];
