// SonarQube's letter ratings, computed from issues. Pure.
//   Security rating     — worst VULNERABILITY: none A, minor B, major C, critical D, blocker E.
//   Reliability rating  — the same over BUGs.
//   Maintainability (sqale) rating — technical-debt ratio = remediation minutes of the code
//     smells / (lines of code × 30 min, Sonar's default cost to develop one line):
//     A ≤ 5 %, B ≤ 10 %, C ≤ 20 %, D ≤ 50 %, E > 50 %.
// `info`-severity findings do not lower a rating (Sonar does the same).
import { worstSeverity, type IssueSeverity, type ScanIssue } from './issues.ts';

export const RATINGS = ['A', 'B', 'C', 'D', 'E'] as const;
export type Rating = (typeof RATINGS)[number];

/** Minutes Sonar assumes it costs to write one line of code (sqale development cost). */
export const DEVELOPMENT_COST_MINUTES_PER_LINE = 30;

export function isRating(value: string): value is Rating {
  return (RATINGS as readonly string[]).includes(value);
}

/** A higher score is better: A 5 … E 1 (so "GTE B" reads as "B or better"). */
export function ratingScore(rating: Rating): number {
  return RATINGS.length - RATINGS.indexOf(rating);
}

export function ratingFromSeverity(severity: IssueSeverity | undefined): Rating {
  switch (severity) {
    case 'blocker': return 'E';
    case 'critical': return 'D';
    case 'major': return 'C';
    case 'minor': return 'B';
    default: return 'A';
  }
}

export function securityRating(issues: readonly ScanIssue[]): Rating {
  return ratingFromSeverity(worstSeverity(issues.filter((i) => i.type === 'VULNERABILITY')));
}

export function reliabilityRating(issues: readonly ScanIssue[]): Rating {
  return ratingFromSeverity(worstSeverity(issues.filter((i) => i.type === 'BUG')));
}

/** Remediation minutes / development cost, as a fraction (0.05 = 5 %). No code → 0. */
export function technicalDebtRatio(remediationMinutes: number, linesOfCode: number): number {
  if (linesOfCode <= 0) return 0;
  return remediationMinutes / (linesOfCode * DEVELOPMENT_COST_MINUTES_PER_LINE);
}

export function maintainabilityRatingFromRatio(ratio: number): Rating {
  if (ratio <= 0.05) return 'A';
  if (ratio <= 0.1) return 'B';
  if (ratio <= 0.2) return 'C';
  if (ratio <= 0.5) return 'D';
  return 'E';
}

/** Sum of the code smells' remediation effort, in minutes. */
export function remediationMinutes(issues: readonly ScanIssue[]): number {
  return issues.filter((i) => i.type === 'CODE_SMELL').reduce((sum, i) => sum + (i.effortMinutes ?? 0), 0);
}

export function maintainabilityRating(issues: readonly ScanIssue[], linesOfCode: number): Rating {
  return maintainabilityRatingFromRatio(technicalDebtRatio(remediationMinutes(issues), linesOfCode));
}
