// Writes JUnit XML for checks Slipway runs itself (product tests), so they read like any other
// test report in the UI and downloads. Pure.

export interface CheckResult {
  /** Test class in the report, e.g. "health", "dispatcher-1". */
  group: string;
  name: string;
  passed: boolean;
  /** Why it failed (shown as the failure message). */
  message?: string;
  timeMs: number;
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&apos;')
    // Control characters are not allowed in XML 1.0 at all.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}

export function toJUnitXml(suiteName: string, checks: readonly CheckResult[], timestamp: Date): string {
  const failures = checks.filter((c) => !c.passed).length;
  const seconds = (ms: number): string => (ms / 1000).toFixed(3);
  const total = checks.reduce((sum, c) => sum + c.timeMs, 0);
  const cases = checks.map((c) => {
    const open = `    <testcase classname="${escapeXml(`${suiteName}.${c.group}`)}" name="${escapeXml(c.name)}" time="${seconds(c.timeMs)}"`;
    if (c.passed) return `${open}/>`;
    const message = escapeXml(c.message ?? 'failed');
    return `${open}>\n      <failure message="${message}">${message}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(suiteName)}" tests="${checks.length}" failures="${failures}" errors="0" time="${seconds(total)}">`,
    `  <testsuite name="${escapeXml(suiteName)}" tests="${checks.length}" failures="${failures}" errors="0" skipped="0" time="${seconds(total)}" timestamp="${timestamp.toISOString()}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
