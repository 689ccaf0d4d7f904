import type { Migration } from 'kysely';
import { initial } from './0001-initial.js';

export const IMAGE_MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
};
