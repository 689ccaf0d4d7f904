export type { EventBus, Notification, NotificationHandler, Priority, PublishOptions } from './types.js';
export { InMemoryEventBus, osloTimestamp, type InMemoryEventBusOptions } from './memory.js';
export { compilePattern, globToRegExp } from './glob.js';
