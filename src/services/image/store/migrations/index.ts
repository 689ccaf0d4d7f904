import type { Migration } from 'kysely';
import { initial } from './0001-initial.js';
import { locationsAndTasks } from './0002-locations-tasks.js';
import { metadefs } from './0003-metadefs.js';
import { listIndexes } from './0004-list-indexes.js';

export const IMAGE_MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-locations-tasks': locationsAndTasks,
  '0003-metadefs': metadefs,
  '0004-list-indexes': listIndexes,
};
