// From scan results and build reports to Cloud Manager's code-quality metrics. Pure.
import type { Metric } from '../../domain/model.ts';
import type { ScanIssue } from '../../domain/issues.ts';
import { codeQualityMetrics, type CodeQualityMeasures } from '../../domain/quality-gate.ts';
import {
  maintainabilityRatingFromRatio, reliabilityRating, remediationMinutes, securityRating, technicalDebtRatio,
} from '../../domain/ratings.ts';

export interface AssessmentInput {
  /** Findings of the built-in scan and of any SARIF report. */
  issues: ScanIssue[];
  linesOfCode: number;
  coveragePercent: number;
  skippedTests: number;
  duplicatedLinesDensity: number;
}

export interface Assessment {
  issues: ScanIssue[];
  measures: CodeQualityMeasures;
  metrics: Metric[];
  debtMinutes: number;
  /** Fraction (0.05 = 5 %). */
  debtRatio: number;
}

/** The same finding reported twice (ESLint and a SARIF of the same rule) counts once. */
export function dedupeIssues(issues: readonly ScanIssue[]): ScanIssue[] {
  const seen = new Set<string>();
  const out: ScanIssue[] = [];
  for (const issue of issues) {
    const key = `${issue.file}\u0000${issue.line}\u0000${issue.rule}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.rule.localeCompare(b.rule));
}

export function assessCodeQuality(input: AssessmentInput): Assessment {
  const issues = dedupeIssues(input.issues);
  const debtMinutes = remediationMinutes(issues);
  const debtRatio = technicalDebtRatio(debtMinutes, input.linesOfCode);
  const measures: CodeQualityMeasures = {
    securityRating: securityRating(issues),
    reliabilityRating: reliabilityRating(issues),
    maintainabilityRating: maintainabilityRatingFromRatio(debtRatio),
    coverage: input.coveragePercent,
    skippedTests: input.skippedTests,
    openIssues: issues.length,
    duplicatedLinesDensity: input.duplicatedLinesDensity,
  };
  return { issues, measures, metrics: codeQualityMetrics(measures), debtMinutes, debtRatio };
}
