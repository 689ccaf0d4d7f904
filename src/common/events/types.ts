/**
 * Notifications in the shape oslo.messaging's Notifier emits, so that consumers
 * written for OpenStack (Ceilometer-style meters, audit, Aodh event alarms) can
 * read ours unchanged.
 */
export type Priority = 'INFO' | 'WARN' | 'ERROR';

export interface Notification {
  /** `<service>.<resource>.<action>[.start|.end|.error]`, e.g. 'identity.user.created'. */
  event_type: string;
  /** `<service>.<host>`, e.g. 'identity.node-1'. */
  publisher_id: string;
  priority: Priority;
  payload: Record<string, unknown>;
  /** A UUID, so consumers of a redelivering transport can drop duplicates. */
  message_id: string;
  /** UTC in Python's str(datetime) form, 'YYYY-MM-DD HH:MM:SS.ffffff', as oslo.messaging writes it. */
  timestamp: string;
}

export interface PublishOptions {
  priority?: Priority;
  /** Overrides the default publisher_id `<first segment of event_type>.<host>`. */
  publisher?: string;
}

export type NotificationHandler = (notification: Notification) => void | Promise<void>;

/**
 * The notification bus services publish domain events to.
 *
 * Contract, which every implementation keeps:
 * - `publish` is fire-and-forget: it returns before any subscriber runs and never
 *   throws because of a subscriber. It may throw only for programmer errors (an
 *   invalid event type, a payload that is not JSON).
 * - Payloads are JSON: they are copied at publish time, and subscribers receive
 *   plain data (Dates become ISO strings), as they would from a wire transport.
 * - Delivery to each subscriber is in publish order; a failing subscriber is
 *   reported and skipped, it does not stop delivery to others or later events.
 *
 * How a durable / distributed implementation slots in (not built yet):
 * with PostgreSQL, `publish` appends to an in-memory buffer and returns; a flusher
 * inserts buffered notifications into an outbox table (`nubes_event_outbox`:
 * message_id primary key, event_type, body JSON, created_at) and NOTIFYs. Each
 * process's relay LISTENs (and polls as a fallback), reads rows newer than its
 * cursor, and fans them out to local subscribers exactly like InMemoryEventBus.
 * For events that must be atomic with a state change, a service would call an
 * extra `publishIn(trx, ...)` that writes the outbox row inside its own
 * transaction. Because `publish` already returns void, promises nothing about
 * when delivery happens, and copies payloads as JSON, callers do not change when
 * the implementation does. An oslo.messaging bridge (AMQP) would be one more
 * subscriber that forwards everything to a real OpenStack notification topic.
 */
export interface EventBus {
  publish(eventType: string, payload: Record<string, unknown>, opts?: PublishOptions): void;
  /**
   * `pattern` is an exact event type or a glob in fnmatch style: '*' matches any
   * run of characters including dots ('identity.user.*', 'compute.instance.*.end',
   * '*'), '?' one character. Returns a function that unsubscribes; deliveries not
   * yet started are dropped.
   */
  subscribe(pattern: string, handler: NotificationHandler): () => void;
  /** The last notifications published here, oldest first (for tests and debugging). */
  recent(limit?: number): Notification[];
}
