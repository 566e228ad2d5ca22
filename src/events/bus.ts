// The event bus: what happened to executions and steps, for the UI's live view (SSE) and
// webhooks. Events are emitted after the transaction that caused them has committed.
import { EventEmitter } from 'node:events';
import type { EnvironmentStatus, ExecutionStatus, StepAction, StepStatus } from '../domain/model.ts';

export type SlipwayEvent =
  | { type: 'execution.started'; programId: string; pipelineId: string; executionId: string; at: string }
  | { type: 'execution.ended'; programId: string; pipelineId: string; executionId: string; status: ExecutionStatus; at: string }
  | {
    type: 'step.started' | 'step.waiting' | 'step.ended' | 'step.updated';
    programId: string; pipelineId: string; executionId: string; stepId: string;
    action: StepAction; status: StepStatus; at: string;
  };

/**
 * An environment's status changed (`deleted`: its row is gone). Not a Cloud Manager event: no
 * webhook or journal carries it; it is for the UI's live views, in the process that made the
 * change (environments are provisioned by the API process).
 */
export interface EnvironmentEvent {
  type: 'environment.changed';
  programId: string;
  environmentId: string;
  status: EnvironmentStatus | 'deleted';
  at: string;
}

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(event: SlipwayEvent): void {
    this.emitter.emit('event', event);
  }

  subscribe(listener: (event: SlipwayEvent) => void): () => void {
    this.emitter.on('event', listener);
    this.emitter.emit('subscribed');
    return () => this.emitter.off('event', listener);
  }

  emitEnvironment(event: EnvironmentEvent): void {
    this.emitter.emit('environment', event);
  }

  subscribeEnvironments(listener: (event: EnvironmentEvent) => void): () => void {
    this.emitter.on('environment', listener);
    return () => this.emitter.off('environment', listener);
  }

  /** Calls `fn` once, when the bus first has a subscriber (at once if it has one). */
  onFirstSubscriber(fn: () => void): void {
    if (this.emitter.listenerCount('event') > 0) fn();
    else this.emitter.once('subscribed', fn);
  }
}

/** An event before its timestamp is set (at commit). */
export type PendingEvent = SlipwayEvent extends infer E ? (E extends SlipwayEvent ? Omit<E, 'at'> : never) : never;
