// A code-scanning finding in SonarQube's terms. Pure types and helpers, shared by the report
// parsers, the scanners, the ratings and the code-quality step.

export const ISSUE_SEVERITIES = ['blocker', 'critical', 'major', 'minor', 'info'] as const;
export type IssueSeverity = (typeof ISSUE_SEVERITIES)[number];

export const ISSUE_TYPES = ['VULNERABILITY', 'BUG', 'CODE_SMELL'] as const;
export type IssueType = (typeof ISSUE_TYPES)[number];

export interface ScanIssue {
  /** Path relative to the repository root, forward slashes. */
  file: string;
  line: number;
  rule: string;
  severity: IssueSeverity;
  type: IssueType;
  message: string;
  /** Estimated remediation effort (code smells feed the maintainability rating). */
  effortMinutes?: number;
}

/** Lower is worse: blocker 0 … info 4. */
export function severityRank(severity: IssueSeverity): number {
  return ISSUE_SEVERITIES.indexOf(severity);
}

/** The worst severity among `issues`, or undefined for none. */
export function worstSeverity(issues: readonly ScanIssue[]): IssueSeverity | undefined {
  let worst: IssueSeverity | undefined;
  for (const issue of issues) {
    if (worst === undefined || severityRank(issue.severity) < severityRank(worst)) worst = issue.severity;
  }
  return worst;
}

/** Severity from a CVSS-like score (SARIF `security-severity`, GitHub's bands). */
export function severityFromScore(score: number): IssueSeverity {
  if (score >= 9) return 'blocker';
  if (score >= 7) return 'critical';
  if (score >= 4) return 'major';
  if (score > 0) return 'minor';
  return 'info';
}
