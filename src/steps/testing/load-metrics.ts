// Turns a load run's figures into Cloud Manager performance metrics (AMS kpi names): error_rate,
// response_time (95th percentile, ms) and requests_per_minute, against the pipeline's thresholds.
// Pure.
import type { Metric, PipelineOptions } from '../../domain/model.ts';
import { checkThreshold } from '../../domain/quality-gate.ts';

export interface LoadFigures {
  /** Completed responses (any status). */
  requests: number;
  non2xx: number;
  /** Requests that got no response: socket errors, timeouts included (autocannon counts them in both). */
  errors: number;
  timeouts: number;
  durationSeconds: number;
  p95Ms: number;
  p50Ms: number;
  p99Ms: number;
}

export function errorRate(f: LoadFigures): number {
  const attempts = f.requests + f.errors;
  return attempts === 0 ? 1 : (f.non2xx + f.errors) / attempts;
}

export function requestsPerMinute(f: LoadFigures): number {
  return f.durationSeconds > 0 ? (f.requests / f.durationSeconds) * 60 : 0;
}

export function loadMetrics(f: LoadFigures, options: Pick<PipelineOptions, 'loadTest95thMs' | 'loadTestErrorRate' | 'loadTestMinRpm'>): Metric[] {
  return [
    checkThreshold({ kpi: 'error_rate', severity: 'important', comparator: 'LTE', expectedValue: String(options.loadTestErrorRate) }, errorRate(f).toFixed(4)),
    checkThreshold({ kpi: 'response_time', severity: 'important', comparator: 'LTE', expectedValue: String(options.loadTest95thMs) }, String(Math.round(f.p95Ms))),
    checkThreshold({ kpi: 'requests_per_minute', severity: 'important', comparator: 'GTE', expectedValue: String(options.loadTestMinRpm) }, String(Math.round(requestsPerMinute(f)))),
  ];
}
