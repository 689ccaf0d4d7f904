import { ruleDefault, type RuleDefault } from '../../../common/policy/index.js';

const rule = ruleDefault;

/** Glance's import, task and discovery rules (Zed defaults, enforce_new_defaults=False). */
export const IMPORT_POLICIES: RuleDefault[] = [
  rule('image:copy_image', 'role:admin', 'POST /v2/images/{image_id}/import with method copy-image (project admins only, as in Glance).'),
  rule('image:stores_info_detail', 'role:admin', 'GET /v2/info/stores/detail'),
  rule('image:tasks_api_access', 'role:admin', 'Every /v2/tasks call (the task API is deprecated; import tasks are read through it).'),
  rule('image:get_task', '', 'GET /v2/tasks/{task_id}'),
  rule('image:get_tasks', '', 'GET /v2/tasks'),
  rule('image:add_task', '', 'POST /v2/tasks'),
  rule('image:modify_task', '', 'DELETE /v2/tasks/{task_id} (never allowed by the API itself)'),
];
