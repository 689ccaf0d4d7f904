import type { AuthContext } from '../../common/auth/index.js';

/** The facts Glance's RequestContext carries that its rules use: the project (owner) and admin-ness. */
export interface Caller {
  project: string | null;
  isAdmin: boolean;
}

export function callerOf(ctx: AuthContext): Caller {
  return { project: ctx.project?.id ?? null, isAdmin: ctx.roles.some((r) => r.name === 'admin') };
}
