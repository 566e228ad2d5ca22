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
