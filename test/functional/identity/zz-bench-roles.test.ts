import { test } from 'node:test';
import { startTestCloud } from '../../helpers/cloud.js';
test('bench', async () => {
  const t = await startTestCloud();
  const svc = t.cloud.identity.service;
  const admin = await svc.users.findByName('admin', 'default');
  const p = await svc.resource.findProjectByName('admin', 'default');
  const time = async (label: string, fn: () => Promise<unknown>) => { const n = 2000; const t0 = performance.now(); for (let i = 0; i < n; i++) await fn(); console.log(label, ((performance.now() - t0) / n * 1000).toFixed(0), 'us/call'); };
  await time('findProjectRow', () => svc.resource.findProjectRow(p!.id));
  await time('directRoleIds project', () => svc.assignments.directRoleIds(admin!.id, { kind: 'project', projectId: p!.id }));
  await time('directRoleIds system', () => svc.assignments.directRoleIds(admin!.id, { kind: 'system' }));
  await time('impliedGraph', () => svc.roles.impliedGraph());
  await time('rolesByIds', () => svc.roles.rolesByIds(['a', 'b', 'c']));
  await time('effective project', () => svc.assignments.effectiveRoles(admin!.id, { kind: 'project', projectId: p!.id }));
  await t.close();
});
