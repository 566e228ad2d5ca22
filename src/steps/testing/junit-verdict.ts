// How a test bundle's run is judged (Cloud Manager §10.3/§10.4): only by the JUnit XML it wrote.
// A failing test fails the step even when the process exits 0; a run without any report fails
// with a reason that says so. Pure.
import type { JUnitSummary } from '../../runner/reports/junit.ts';

export interface RunFacts {
  exitCode: number | null;
  timedOut: boolean;
  timeoutMinutes: number;
  reportFiles: number;
  /** Set when a report could not be parsed. */
  reportError?: string;
}

export type Verdict = { passed: true; summary: string } | { passed: false; reason: string };

const MAX_LISTED = 5;

export function describeCounts(s: JUnitSummary): string {
  const passed = s.tests - s.failures - s.errors - s.skipped;
  return `${s.tests} tests: ${passed} passed, ${s.failures} failed, ${s.errors} errors, ${s.skipped} skipped`;
}

export function judgeJUnit(kind: string, facts: RunFacts, summary: JUnitSummary | undefined): Verdict {
  const timeout = facts.timedOut ? ` (stopped after the ${facts.timeoutMinutes} min timeout)` : '';
  if (facts.reportError) return { passed: false, reason: `${kind}: unreadable test report: ${facts.reportError}${timeout}` };
  if (!summary || facts.reportFiles === 0) {
    return { passed: false, reason: `${kind}: no JUnit XML report was written to REPORTS_PATH (exit code ${facts.exitCode ?? 'none'})${timeout}` };
  }
  if (summary.failures + summary.errors > 0) {
    const listed = summary.failed.slice(0, MAX_LISTED).map((f) => `${f.suite ? `${f.suite} > ` : ''}${f.name}: ${f.message}`);
    const more = summary.failed.length > MAX_LISTED ? `; and ${summary.failed.length - MAX_LISTED} more` : '';
    return { passed: false, reason: `${kind}: ${describeCounts(summary)}${timeout}. Failed: ${listed.join('; ')}${more}` };
  }
  if (facts.timedOut) return { passed: false, reason: `${kind}: ${describeCounts(summary)}${timeout}` };
  if (summary.tests === 0) return { passed: false, reason: `${kind}: the JUnit report lists no tests` };
  return { passed: true, summary: `${kind}: ${describeCounts(summary)}` };
}
