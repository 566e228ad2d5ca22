// Human-readable output: aligned tables and durations. --json bypasses all of this.
import { COPY_ARTIFACTS_LABEL, copiesArtifacts } from '../domain/step-labels.ts';

export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = rows.map((r) => headers.map((_, i) => String(r[i] ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function duration(startedAt?: string, finishedAt?: string, now = Date.now()): string {
  if (!startedAt) return '';
  const start = Date.parse(startedAt);
  const end = finishedAt ? Date.parse(finishedAt) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return '';
  const s = Math.max(0, Math.round((end - start) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** The step's action as scripts name it; a re-execution's build says that it copies artifacts. */
export function stepLabel(step: { action: string; environmentType?: string }, trigger: string): string {
  if (copiesArtifacts(step, trigger)) return `${step.action} (${COPY_ARTIFACTS_LABEL})`;
  return step.environmentType && step.action === 'deploy' ? `deploy (${step.environmentType})` : step.action;
}

interface DeployCommandView { node?: string; action?: string; status?: string; message?: string }

/**
 * A deploy step's progress in one line: how many of the commands Cloud Manager's
 * `deployCommands` (a JSON string) expects are done, and the latest one from Slipway's own
 * record (`rollout.commands`, src/steps/deploy-details.ts). Undefined when it has none.
 */
export function deployProgress(step: { action: string; environmentType?: string; details?: Record<string, unknown> }, trigger = 'MANUAL'): string | undefined {
  const rollout = step.details?.rollout as { version?: string; commands?: DeployCommandView[] } | undefined;
  const commands = Array.isArray(rollout?.commands) ? rollout.commands : [];
  const last = commands.at(-1);
  if (step.action !== 'deploy' || !last) return undefined;
  let expected: number | undefined;
  try {
    const parsed: unknown = JSON.parse(String(step.details?.deployCommands ?? ''));
    if (Array.isArray(parsed)) expected = parsed.length;
  } catch { /* an older step: no expected list */ }
  const finished = commands.filter((c) => c.status === 'FINISHED').length;
  const count = expected === undefined ? `${finished} commands finished` : `${finished} of ${expected} expected commands finished`;
  return `${stepLabel(step, trigger)}: release ${rollout?.version ?? '?'}, ${count}; latest: ${last.node ?? '?'} ${last.action ?? '?'} `
    + `${last.status ?? '?'}${last.message ? ` (${last.message})` : ''}`;
}
