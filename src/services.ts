import type { ServiceModule } from './common/service.js';
import { IDENTITY_SERVICE } from './services/identity/index.js';
import { OBJECT_STORE_SERVICE } from './services/object-store/index.js';
import { IMAGE_SERVICE } from './services/image/index.js';

/** The registry: one entry per service, mounted in this order. */
export const SERVICES: readonly ServiceModule[] = [IDENTITY_SERVICE, IMAGE_SERVICE, OBJECT_STORE_SERVICE];
