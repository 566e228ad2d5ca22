// The documented exit codes of the `slipway` command, and how errors map onto them.
import { ApiError, ConnectionError } from './client.ts';
import { NoStepError } from './current-step.ts';

export const EXIT = {
  ok: 0,
  general: 1,
  /** Missing/invalid configuration: base URL unreachable, no or wrong token, no program chosen. */
  configuration: 2,
  /** The request was refused: bad input, a busy pipeline, nothing to advance, no permission. */
  refused: 3,
  notFound: 4,
  /** wait-execution: the execution ended FAILED, ERROR or CANCELLED. */
  executionFailed: 5,
} as const;

/** A failure the CLI reports with a chosen exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
  }
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ConnectionError) return EXIT.configuration;
  if (error instanceof NoStepError) return EXIT.refused;
  if (error instanceof ApiError) {
    if (error.status === 401) return EXIT.configuration;
    if (error.status === 404) return EXIT.notFound;
    if (error.status >= 400 && error.status < 500) return EXIT.refused;
  }
  return EXIT.general;
}

export function messageFor(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return `${error.message} (check --token / SLIPWAY_TOKEN)`;
    if (error.status === 412) return `${error.detail || 'pipeline already running'} (HTTP 412)`;
    return `${error.message} (HTTP ${error.status})`;
  }
  return error instanceof Error ? error.message : String(error);
}
