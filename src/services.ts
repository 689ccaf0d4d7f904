import type { ServiceModule } from './common/service.js';
import { IDENTITY_SERVICE } from './services/identity/index.js';

/** The registry: one entry per service, mounted in this order. */
export const SERVICES: readonly ServiceModule[] = [IDENTITY_SERVICE];
