// The durable orchestrator. Claims runnable steps with leases, runs their handlers, turns
// results into transitions, fires timers (timeouts, schedules, expired leases) and recovers
// after a crash. Wake-ups are pushed (in-process emitter, LISTEN/NOTIFY): no polling loop.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Execution, StepState } from '../domain/model.ts';
import { programSlots } from '../domain/fair-share.ts';
import type { HandlerRegistry, StepResult } from '../steps/handler.ts';
import { releaseLeases, renewLease } from '../store/executions.ts';
import { isConnectionLost } from '../store/db.ts';
import { buildContext, type ContextDeps, type ContextReads } from './context.ts';
import { claimOne, type ClaimDeps, type Launch } from './claim.ts';
import { writeCompletion } from './completion.ts';
import { failureReason, quietly } from './failure.ts';
import { outsideStepScope, runInStepScope } from './step-scope.ts';
import { engineTimers, type Timers } from './timers.ts';
import { defaultActiveEngines, HostSlot } from './host-slot.ts';

export interface EngineOptions extends ContextDeps {
  handlers: HandlerRegistry;
  workerId?: string;
  /** How long a claim holds without renewal; a crashed worker's step is taken over after it. */
  leaseMs?: number;
  /** Steps this engine runs at once. */
  concurrency?: number;
  /** Steps one program may run at once (all engines together); default half of `concurrency`. */
  programConcurrency?: number;
  /**
   * PostgreSQL: engine processes of this host that claim work at once; the others stand by
   * (host-slot.ts). Default: the host's cores less one, at least 1.
   */
  activeEngines?: number;
  onError?(error: unknown): void;
}

export class Engine {
  readonly workerId: string;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  /** The options with this engine's worker and settings: what its claims and completions need. */
  private readonly deps: ClaimDeps;
  private readonly running = new Map<string, { executionId: string; abort: AbortController; cancelled: boolean }>();
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = true;
  private draining = false;
  /** The drain under way (a claim may be in flight): for idle(), and stop() waits for it before letting leases go. */
  private drainRun?: Promise<void>;
  private again = false;
  /** The last drain stopped with every slot taken (see drain). */
  private full = false;
  private unsubscribe?: () => void;
  private keepAlive?: NodeJS.Timeout;
  private readonly timers: Timers;
  /** On PostgreSQL: whether this engine may claim (one of its host's active engines). */
  private readonly slot?: HostSlot;

  constructor(private readonly options: EngineOptions) {
    this.workerId = options.workerId ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.concurrency = options.concurrency ?? 8;
    this.deps = {
      ...options, workerId: this.workerId, leaseMs: this.leaseMs,
      programQuota: programSlots(this.concurrency, options.programConcurrency),
    };
    this.timers = engineTimers({ rt: options.rt, poke: () => this.poke(), stopped: () => this.stopped });
    const { db } = options.rt;
    if (db.dialect === 'postgres' && db.postgresUrl) {
      this.slot = new HostSlot(db.postgresUrl, options.activeEngines ?? defaultActiveEngines(), (active) => {
        // Heard first, then a claim pass: work committed in between is found by one or the other.
        // Steps still running keep hearing (a cancel comes as a wake-up); see launch().
        void options.rt.wakeup.wantWakes(active || this.running.size > 0).then(() => this.poke());
      });
    }
  }

  /** Claims work: not stopped, and on PostgreSQL one of its host's active engines. */
  get active(): boolean {
    return !this.stopped && (this.slot?.active ?? true);
  }

  /** For operators (the health answer, the start-up line): what this process's engine does. */
  get status(): 'active' | 'standing by' | 'stopped' {
    return this.stopped ? 'stopped' : this.active ? 'active' : 'standing by';
  }

  async start(): Promise<void> {
    this.stopped = false;
    // A started engine keeps its process alive, even with nothing to do yet (an engine-only
    // process has no server socket to do so); stop() lets it go.
    this.keepAlive = setInterval(() => undefined, 2 ** 30);
    this.unsubscribe = this.options.rt.wakeup.on((reason) => {
      if (reason.kind === 'cancel') this.abortExecution(reason.executionId);
      this.poke();
    });
    await this.slot?.start();
    this.poke();
  }

  /** Stops claiming; running handlers are aborted and their steps left for a lease takeover. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.keepAlive);
    this.timers.stop();
    this.unsubscribe?.();
    // A claim committed after the leases were let go would keep its step leased by nobody.
    await this.drainRun;
    for (const r of this.running.values()) r.abort.abort(new Error('engine stopping'));
    // A completion in flight may hand off (claim) one more step; it is not launched (see launch).
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
    // The interrupted steps are taken over at once by the next engine, not after their leases run out.
    await releaseLeases(this.options.rt.db.kysely, this.workerId).catch((e: unknown) => this.options.onError?.(e));
    // Then an engine standing by takes this one's place.
    await this.slot?.stop();
  }

  /** Claim and start everything runnable, then arm the timer for the next due moment. */
  poke(): void {
    if (!this.active) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    // Claims made here belong to no step, even when a step's completion woke the engine.
    this.drainRun = outsideStepScope(() => this.drain()).catch((e: unknown) => {
      this.options.onError?.(e);
      if (this.stopped) return;
      // Typically the database is unreachable (restarting): look again soon, due timers
      // included, rather than wait for a wake-up that may never come (the one that brought
      // this drain is spent).
      this.timers.retrySoon();
    }).finally(() => {
      this.draining = false;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  /**
   * Resolves once the engine has nothing left to do for now: no claim pass under way or asked
   * for, no handler running. Tests await it instead of sleeping; a step whose handler never
   * ends keeps the engine busy.
   */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.inFlight, ...(this.draining && this.drainRun ? [this.drainRun] : [])];
      if (busy.length === 0) return;
      await Promise.allSettled(busy);
    }
  }

  private async drain(): Promise<void> {
    await this.timers.fireIfDue();
    // Whether work may be left unclaimed because every slot was taken: only then does a
    // finishing step need to look for more (a claim round trip and the claim lock per step
    // otherwise; its successor is handed off, and new work announces itself with a wake-up).
    this.full = false;
    while (this.active) {
      if (this.running.size >= this.concurrency) {
        this.full = true;
        break;
      }
      const claimed = await claimOne(this.deps);
      if (!claimed) break;
      // Started only once the claim has committed.
      if (claimed.launch) this.launch(claimed.launch);
    }
    await this.timers.arm();
  }

  private launch({ step, execution, reads }: Launch): void {
    // Claimed while stopping: stop() lets the lease go, for the next engine to take at once.
    if (this.stopped) return;
    const abort = new AbortController();
    const entry = { executionId: step.executionId, abort, cancelled: false };
    this.running.set(step.id, entry);
    const scope = { executionId: step.executionId, stepId: step.id, action: step.action };
    const p = runInStepScope(scope, () => Promise.resolve().then(() => this.run(step, execution, entry, reads)))
      .catch((e) => this.options.onError?.(e))
      .finally(() => {
        this.running.delete(step.id);
        this.inFlight.delete(p);
        if (this.full && this.running.size < this.concurrency) this.poke();
        // The last step of an engine that stood by meanwhile: it needs wake-ups no more.
        if (this.slot && !this.slot.active && this.running.size === 0) void this.options.rt.wakeup.wantWakes(false);
      });
    this.inFlight.add(p);
  }

  private async run(
    step: StepState, execution: Execution, entry: { abort: AbortController; cancelled: boolean }, reads?: Promise<ContextReads>,
  ): Promise<void> {
    const rt = this.options.rt;
    const handler = this.options.handlers[step.action];
    let lost = false;
    const renew = setInterval(() => {
      void renewLease(rt.db.kysely, step.id, this.workerId, rt.clock.now() + this.leaseMs).then((held) => {
        if (!held) {
          lost = true;
          entry.abort.abort(new Error('lease lost'));
        }
      }).catch(() => undefined);
    }, Math.max(50, this.leaseMs / 3));
    let result: StepResult;
    let crashed = false;
    let ctx: Awaited<ReturnType<typeof buildContext>> | undefined;
    try {
      if (!handler) throw new Error(`no handler for step ${step.action}`);
      ctx = await buildContext(this.options, execution, step, this.workerId, entry.abort.signal, reads);
      // A cancel that arrived while the context was being built: don't start the handler.
      entry.abort.signal.throwIfAborted();
      result = await handler.run(ctx);
    } catch (error) {
      const reason = failureReason(error, this.options.dataDir);
      result = { outcome: 'failed', reason };
      crashed = true;
      // The log itself may be what failed (a full disk): the result must still be written.
      quietly(() => ctx?.log.line(`[slipway] step failed: ${reason}`));
    } finally {
      quietly(() => ctx?.closeLog());
    }
    try {
      if (lost || (this.stopped && !entry.cancelled)) return; // another worker owns it now, or will
      const outcome = entry.cancelled ? null : result;
      await this.whileDatabaseDown(() => this.complete(step, execution, outcome, crashed));
    } finally {
      clearInterval(renew);
    }
  }

  /**
   * Runs a completion again while the database is unreachable (PostgreSQL restarting), for at
   * most a lease: the result is not lost. Running it twice is harmless, because the
   * transaction checks that this worker still holds the step's lease.
   */
  private async whileDatabaseDown(fn: () => Promise<void>): Promise<void> {
    const giveUpAt = Date.now() + this.leaseMs;
    for (let waitMs = 100; ; waitMs = Math.min(waitMs * 2, 2000)) {
      try {
        return await fn();
      } catch (error) {
        if (this.stopped || Date.now() > giveUpAt || !isConnectionLost(error)) throw error;
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }

  /** Writes a handler's result, if this worker still holds the lease (completion.ts). null = cancelled. */
  private async complete(ran: StepState, held: Execution, result: StepResult | null, crashed: boolean): Promise<void> {
    // Hot hand-off: this worker starts the next step itself, claimed in the same write, instead
    // of a claim round trip (and a wake-up of every engine). `running` still counts the
    // finishing step, so with it this engine is at most full.
    const handOff = (now: number) => (this.active && this.running.size <= this.concurrency
      ? { worker: this.workerId, leaseUntil: now + this.leaseMs } : undefined);
    const done = await writeCompletion(this.deps, ran, held, result, crashed, handOff);
    if (!done) return;
    if (done.handedOff) {
      // The finished step's slot passes to its successor now, not when its promise settles: a
      // successor that finishes at once must still find a slot for its own hand-off.
      this.running.delete(ran.id);
      this.launch(done.handedOff);
    }
    // An ended execution's scratch space goes; its artifacts and logs stay.
    if (done.outcome.events.some((e) => e.type === 'execution.ended')) {
      rmSync(join(this.options.dataDir, 'work', ran.executionId), { recursive: true, force: true });
    }
  }

  private abortExecution(executionId: string): void {
    for (const r of this.running.values()) {
      if (r.executionId === executionId) {
        r.cancelled = true;
        r.abort.abort(new Error('cancelled'));
      }
    }
  }
}
