import type { FastifyInstance } from 'fastify';
import type { IdentityApi } from './context.js';
import { authRoutes } from './auth/routes.js';
import { domainRoutes } from './domains/routes.js';
import { projectRoutes } from './projects/routes.js';
import { userRoutes } from './users/routes.js';
import { groupRoutes } from './groups/routes.js';
import { roleRoutes } from './roles/routes.js';
import { assignmentRoutes } from './assignments/routes.js';
import { catalogRoutes } from './catalog/routes.js';
import { credentialRoutes } from './credentials/routes.js';
import { appCredRoutes } from './app-creds/routes.js';
import { trustRoutes } from './trusts/routes.js';
import { limitRoutes } from './limits/routes.js';
import { miscRoutes } from './misc/routes.js';

/** Every /v3 route module; each owns one Keystone resource family. */
export const ROUTE_MODULES: ((app: FastifyInstance, api: IdentityApi) => Promise<void>)[] = [
  authRoutes,
  domainRoutes,
  projectRoutes,
  userRoutes,
  groupRoutes,
  roleRoutes,
  assignmentRoutes,
  catalogRoutes,
  credentialRoutes,
  appCredRoutes,
  trustRoutes,
  limitRoutes,
  miscRoutes,
];
