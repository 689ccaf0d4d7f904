import type { RuleDefault } from '../../../common/policy/index.js';

/** Glance Zed's cache rules: only admins manage the image cache. */
export const CACHE_POLICIES: RuleDefault[] = [
  { name: 'image:manage_image_cache', checkStr: 'role:admin', description: 'The legacy cache management rule (Glance before Yoga).' },
  { name: 'image:cache_list', checkStr: 'role:admin', description: 'GET /v2/cache' },
  { name: 'image:cache_image', checkStr: 'role:admin', description: 'PUT /v2/cache/{image_id}' },
  { name: 'image:cache_delete', checkStr: 'role:admin', description: 'DELETE /v2/cache, DELETE /v2/cache/{image_id}' },
];
