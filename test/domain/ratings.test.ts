import { describe, expect, it } from 'vitest';
import type { IssueSeverity, IssueType, ScanIssue } from '../../src/domain/issues.ts';
import { severityFromScore, worstSeverity } from '../../src/domain/issues.ts';
import {
  maintainabilityRating, maintainabilityRatingFromRatio, ratingFromSeverity, ratingScore, reliabilityRating,
  remediationMinutes, securityRating, technicalDebtRatio,
} from '../../src/domain/ratings.ts';

function issue(type: IssueType, severity: IssueSeverity, effortMinutes?: number): ScanIssue {
  return { file: 'a.js', line: 1, rule: 'r', type, severity, message: 'm', effortMinutes };
}

describe('ratings', () => {
  it('rates security by the worst vulnerability: none A, minor B, major C, critical D, blocker E', () => {
    expect(securityRating([])).toBe('A');
    expect(securityRating([issue('VULNERABILITY', 'info')])).toBe('A');
    expect(securityRating([issue('VULNERABILITY', 'minor')])).toBe('B');
    expect(securityRating([issue('VULNERABILITY', 'minor'), issue('VULNERABILITY', 'major')])).toBe('C');
    expect(securityRating([issue('VULNERABILITY', 'critical'), issue('VULNERABILITY', 'minor')])).toBe('D');
    expect(securityRating([issue('VULNERABILITY', 'blocker'), issue('VULNERABILITY', 'critical')])).toBe('E');
    // Bugs and smells do not touch the security rating.
    expect(securityRating([issue('BUG', 'blocker'), issue('CODE_SMELL', 'blocker')])).toBe('A');
  });

  it('rates reliability by the worst bug', () => {
    expect(reliabilityRating([issue('VULNERABILITY', 'blocker')])).toBe('A');
    expect(reliabilityRating([issue('BUG', 'major')])).toBe('C');
    expect(reliabilityRating([issue('BUG', 'blocker')])).toBe('E');
  });

  it('maps every severity', () => {
    expect((['blocker', 'critical', 'major', 'minor', 'info'] as const).map(ratingFromSeverity)).toEqual(['E', 'D', 'C', 'B', 'A']);
    expect(ratingFromSeverity(undefined)).toBe('A');
    expect(worstSeverity([issue('BUG', 'minor'), issue('BUG', 'critical'), issue('BUG', 'major')])).toBe('critical');
    expect(worstSeverity([])).toBeUndefined();
  });

  it('computes the technical-debt ratio over 30 min per line', () => {
    expect(technicalDebtRatio(150, 100)).toBeCloseTo(0.05);
    expect(technicalDebtRatio(0, 0)).toBe(0);
    expect(technicalDebtRatio(100, 0)).toBe(0);
  });

  it('bands the maintainability rating at 5/10/20/50 %, bounds inclusive', () => {
    const cases: [number, string][] = [
      [0, 'A'], [0.05, 'A'], [0.0501, 'B'], [0.1, 'B'], [0.1001, 'C'], [0.2, 'C'], [0.2001, 'D'], [0.5, 'D'], [0.5001, 'E'], [3, 'E'],
    ];
    for (const [ratio, rating] of cases) expect(maintainabilityRatingFromRatio(ratio), String(ratio)).toBe(rating);
  });

  it('sums only code-smell effort for the sqale rating', () => {
    const issues = [issue('CODE_SMELL', 'major', 100), issue('CODE_SMELL', 'minor', 60), issue('BUG', 'major', 1000), issue('CODE_SMELL', 'info')];
    expect(remediationMinutes(issues)).toBe(160);
    expect(maintainabilityRating(issues, 1000)).toBe('A'); // 160 / 30000 = 0.5 %
    expect(maintainabilityRating(issues, 100)).toBe('B'); // 160 / 3000 = 5.3 %
    expect(maintainabilityRating(issues, 10)).toBe('E'); // 160 / 300 = 53 %
  });

  it('scores A highest', () => {
    expect(ratingScore('A')).toBeGreaterThan(ratingScore('B'));
    expect(ratingScore('D')).toBeGreaterThan(ratingScore('E'));
  });

  it('bands CVSS-like scores', () => {
    expect([10, 9, 8.9, 7, 6.9, 4, 3.9, 0.1, 0].map(severityFromScore))
      .toEqual(['blocker', 'blocker', 'critical', 'critical', 'major', 'major', 'minor', 'minor', 'info']);
  });
});
