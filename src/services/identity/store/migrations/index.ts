import type { Migration } from 'kysely';
import { initial } from './0001-initial.js';
import { catalog } from './0002-catalog.js';

export const IDENTITY_MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-catalog': catalog,
};
