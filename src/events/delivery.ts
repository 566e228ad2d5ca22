// The webhook delivery loop: fans the journal out into deliveries and POSTs them, signed, with
// retries and exponential backoff. It runs beside the engine, never inside its transactions:
// a slow endpoint holds only its own subscription's few slots, each POST has a timeout, and
// pipelines never wait for a webhook. Woken by committed events (the bus, which on
// PostgreSQL also carries other processes' news), by its retry timer, and by a slow poll
// that finds what engines in other SQLite processes wrote. A delivery accepted hands its slot
// to the next one of its lane (its subscription and execution) when that one is due, without
// a pass between them: a burst of an execution's events goes out back to back.
import { cloudManagerEvent, retryDelayMs } from '../domain/cloud-events.ts';
import type { Db } from '../store/db.ts';
import {
  dueDeliveries, fanOut, leaseDelivery, leaseNextInLane, nextDeliveryAt, recordAttempt, type AttemptResult, type Delivery,
  type DeliveryStatus,
} from '../store/deliveries.ts';
import { eventsBySeq, lastEventSeqs } from '../store/events.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { listWebhooks, webhookSecret, type Webhook } from '../store/webhooks.ts';
import type { EventBus } from './bus.ts';
import { signBody } from './webhook-http.ts';

/** What the loop needs of the engine's runtime (kept narrow: events sit below the engine). */
export interface DeliveryRuntime {
  db: Db;
  bus: EventBus;
  clock: { now(): number };
  /** Opens the subscriptions' signing secrets. */
  secrets: SecretBox;
}

/**
 * Deliveries of one lane sent back to back before its slot goes back to the pass, which picks
 * the oldest due deliveries of all lanes: a long backlog does not keep the slot for good.
 */
const LANE_RUN = 32;

export interface DeliveryOptions {
  /** Slipway's public base URL: event objects are absolute URLs under it. */
  baseUrl: string;
  /** Per POST. */
  timeoutMs?: number;
  /** After this many failed attempts a delivery is `failed` (a person may redeliver it). */
  maxAttempts?: number;
  retryBaseMs?: number;
  retryCapMs?: number;
  /** POSTs in flight per subscription. */
  perSubscription?: number;
  pollMs?: number;
  onError?(error: unknown): void;
}

export class WebhookDelivery {
  private readonly options: Required<Omit<DeliveryOptions, 'onError'>> & Pick<DeliveryOptions, 'onError'>;
  private readonly inFlight = new Map<string, number>();
  private readonly posts = new Set<Promise<void>>();
  private stopped = true;
  private running = false;
  private again = false;
  private timer?: NodeJS.Timeout;
  private poll?: NodeJS.Timeout;
  private unsubscribe?: () => void;

  constructor(private readonly rt: DeliveryRuntime, options: DeliveryOptions) {
    this.options = {
      timeoutMs: 10_000, maxAttempts: 8, retryBaseMs: 1000, retryCapMs: 15 * 60_000, perSubscription: 2, pollMs: 2000,
      ...options, baseUrl: options.baseUrl.replace(/\/+$/, ''),
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.rt.bus.subscribe(() => this.poke());
    this.poll = setInterval(() => this.poke(), this.options.pollMs);
    this.poll.unref();
    this.poke();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.poll);
    clearTimeout(this.timer);
    // POSTs in flight finish (each has its timeout); one cut off is retried after its lease.
    await Promise.allSettled([...this.posts]);
  }

  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.pass().catch((e: unknown) => this.options.onError?.(e)).finally(() => {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  private async pass(): Promise<void> {
    const db = this.rt.db;
    const webhooks = new Map((await listWebhooks(db.kysely)).map((w) => [w.id, w]));
    // Only a subscription behind its program's head fans out (a program's head, not the
    // journal's: only within a program do ids become visible in order).
    const heads = await lastEventSeqs(db.kysely, [...new Set([...webhooks.values()].map((w) => w.programId))]);
    for (const w of webhooks.values()) {
      const head = heads.get(w.programId) ?? 0;
      while (w.fannedOutTo < head) w.fannedOutTo = await fanOut(db.kysely, w, head, this.rt.clock.now());
    }
    const now = this.rt.clock.now();
    for (const d of await dueDeliveries(db.kysely, now, 200, this.options.perSubscription)) {
      const w = webhooks.get(d.webhookId);
      const busy = this.inFlight.get(d.webhookId) ?? 0;
      if (!w || busy >= this.options.perSubscription) continue;
      if (!await leaseDelivery(db.kysely, d.id, now, this.leaseUntil(now))) continue;
      this.inFlight.set(d.webhookId, busy + 1);
      const p = this.deliverLane(w, { ...d, attempts: d.attempts + 1 })
        .catch((e: unknown) => this.options.onError?.(e))
        .finally(() => {
          this.inFlight.set(d.webhookId, (this.inFlight.get(d.webhookId) ?? 1) - 1);
          this.posts.delete(p);
          this.poke();
        });
      this.posts.add(p);
    }
    await this.armTimer();
  }

  /** The lease outlasts the POST's timeout, so only a dead worker's delivery is taken over. */
  private leaseUntil(now: number): number {
    return now + this.options.timeoutMs * 2 + 1000;
  }

  /** Delivers `first` (leased), then the next of its lane while one is due at once, at most LANE_RUN. */
  private async deliverLane(w: Webhook, first: Delivery): Promise<void> {
    let d: Delivery | undefined = first;
    for (let run = 1; d; run++) {
      // A delivery left pending (a retry later) still blocks its lane.
      if (await this.deliver(w, d) === 'pending' || run >= LANE_RUN || this.stopped) return;
      const now = this.rt.clock.now();
      d = await leaseNextInLane(this.rt.db.kysely, d, w, now, this.leaseUntil(now));
    }
  }

  /** POSTs a leased delivery and records the attempt; returns the status it was left in. */
  private async deliver(w: Webhook, d: Delivery): Promise<DeliveryStatus> {
    const db = this.rt.db.kysely;
    const record = (await eventsBySeq(db, [d.eventSeq])).get(d.eventSeq);
    if (!record) {
      await recordAttempt(db, d.id, { status: 'failed', responseCode: null, error: 'the event is no longer in the journal', nextAttemptAt: this.rt.clock.now(), deliveredAt: null });
      return 'failed';
    }
    const body = JSON.stringify(cloudManagerEvent(record, this.options.baseUrl));
    let responseCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(w.url, {
        method: 'POST', body, redirect: 'manual', signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: {
          'content-type': 'application/json', 'x-adobe-signature': signBody(body, webhookSecret(w, this.rt.secrets)), 'x-adobe-event-id': record.eventId,
          'user-agent': 'Slipway-Webhooks',
        },
      });
      responseCode = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}`;
    } catch (e) {
      error = e instanceof Error ? (e.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : e.message) : String(e);
    }
    const now = this.rt.clock.now();
    const result: AttemptResult = error === null
      ? { status: 'delivered', responseCode, error: null, nextAttemptAt: now, deliveredAt: now }
      : {
        status: d.attempts >= this.options.maxAttempts ? 'failed' : 'pending', responseCode, error, deliveredAt: null,
        nextAttemptAt: now + retryDelayMs(d.attempts, this.options.retryBaseMs, this.options.retryCapMs, Math.random()),
      };
    await recordAttempt(db, d.id, result);
    return result.status;
  }

  private async armTimer(): Promise<void> {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const at = await nextDeliveryAt(this.rt.db.kysely);
    // Due already: what blocks it (a busy subscription, an earlier event of its execution) pokes when done.
    if (at === undefined || at <= this.rt.clock.now()) return;
    this.timer = setTimeout(() => this.poke(), Math.max(0, at - this.rt.clock.now()) + 1);
    this.timer.unref();
  }
}
