import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { compilePattern } from './glob.js';
import type { EventBus, Notification, NotificationHandler, Priority, PublishOptions } from './types.js';

export interface InMemoryEventBusOptions {
  /** Host part of publisher_id; defaults to the machine's hostname. */
  host?: string;
  /** Size of the recent() ring buffer. Default 1000. */
  capacity?: number;
  /** Called when a subscriber throws or rejects; the bus itself never rethrows. */
  onError?: (err: unknown, notification: Notification) => void;
  clock?: () => Date;
}

interface Subscription {
  matches: (eventType: string) => boolean;
  handler: NotificationHandler;
  active: boolean;
  /** Deliveries to one subscriber are chained so it sees events in publish order. */
  tail: Promise<void>;
}

/** Event types are dotted lower-case words: 'identity.user.created', 'compute.instance.create.start'. */
const EVENT_TYPE = /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/;

const PRIORITIES: readonly Priority[] = ['INFO', 'WARN', 'ERROR'];

/** Python's str(datetime) of a naive UTC time, which is what oslo.messaging stamps. */
export function osloTimestamp(date: Date): string {
  return date.toISOString().replace('T', ' ').replace(/\.(\d{3})Z$/, '.$1000');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * The single-process EventBus: subscribers run on the microtask queue after
 * publish() returns, each in its own ordered chain, so a slow or failing
 * subscriber delays or affects no one else. Nothing survives a restart.
 */
export class InMemoryEventBus implements EventBus {
  private readonly subscriptions = new Set<Subscription>();
  private readonly ring: Notification[] = [];
  private ringStart = 0;
  private readonly capacity: number;
  private readonly host: string;
  private readonly clock: () => Date;
  private readonly onError: (err: unknown, notification: Notification) => void;
  private readonly pending = new Set<Promise<void>>();

  constructor(opts: InMemoryEventBusOptions = {}) {
    this.capacity = opts.capacity ?? 1000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError('capacity must be >= 1');
    this.host = opts.host ?? hostname();
    this.clock = opts.clock ?? (() => new Date());
    this.onError =
      opts.onError ?? ((err, n) => console.error(`[events] subscriber failed on ${n.event_type}:`, err));
  }

  publish(eventType: string, payload: Record<string, unknown>, opts: PublishOptions = {}): void {
    if (!EVENT_TYPE.test(eventType)) throw new TypeError(`invalid event type '${eventType}'`);
    const priority = opts.priority ?? 'INFO';
    if (!PRIORITIES.includes(priority)) throw new TypeError(`invalid priority '${String(priority)}'`);
    const notification: Notification = deepFreeze({
      event_type: eventType,
      publisher_id: opts.publisher ?? `${eventType.slice(0, eventType.indexOf('.'))}.${this.host}`,
      priority,
      // A JSON round trip is the copy a wire transport would make; doing it here keeps
      // subscribers from depending on anything a durable bus could not deliver.
      payload: JSON.parse(JSON.stringify(payload)) as Record<string, unknown>,
      message_id: randomUUID(),
      timestamp: osloTimestamp(this.clock()),
    });
    this.remember(notification);
    for (const sub of this.subscriptions) {
      if (sub.matches(eventType)) this.deliver(sub, notification);
    }
  }

  subscribe(pattern: string, handler: NotificationHandler): () => void {
    const sub: Subscription = { matches: compilePattern(pattern), handler, active: true, tail: Promise.resolve() };
    this.subscriptions.add(sub);
    return () => {
      sub.active = false;
      this.subscriptions.delete(sub);
    };
  }

  recent(limit = this.capacity): Notification[] {
    const ordered = [...this.ring.slice(this.ringStart), ...this.ring.slice(0, this.ringStart)];
    return limit >= ordered.length ? ordered : ordered.slice(ordered.length - Math.max(0, limit));
  }

  /** Resolves once every delivery queued so far has finished: for tests and graceful shutdown. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private remember(notification: Notification): void {
    if (this.ring.length < this.capacity) {
      this.ring.push(notification);
      return;
    }
    this.ring[this.ringStart] = notification;
    this.ringStart = (this.ringStart + 1) % this.capacity;
  }

  private deliver(sub: Subscription, notification: Notification): void {
    // .then() always runs asynchronously, so the publisher is never re-entered.
    const delivery = sub.tail.then(async () => {
      if (!sub.active) return;
      try {
        await sub.handler(notification);
      } catch (err) {
        this.report(err, notification);
      }
    });
    sub.tail = delivery;
    this.pending.add(delivery);
    void delivery.finally(() => this.pending.delete(delivery));
  }

  private report(err: unknown, notification: Notification): void {
    try {
      this.onError(err, notification);
    } catch {
      // An error reporter that throws must not turn into an unhandled rejection.
    }
  }
}
