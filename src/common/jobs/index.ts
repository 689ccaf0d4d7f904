export { JobQueue } from './queue.js';
export { WorkerPool, type WorkerPoolOptions, type WorkerPoolStatus, type PeriodicTask } from './worker.js';
export { exponentialBackoff, type Backoff } from './backoff.js';
export { jobsMigrations, type JobsDb, type JobsTable } from './schema.js';
export {
  JOB_STATUSES,
  PermanentJobError,
  type EnqueueOptions,
  type JobContext,
  type JobHandler,
  type JobPayload,
  type JobQueueOptions,
  type JobRecord,
  type JobStatus,
  type ListFilter,
} from './types.js';
