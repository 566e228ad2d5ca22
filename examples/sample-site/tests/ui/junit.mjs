// A tiny JUnit XML writer (no dependencies): one <testsuite> of <testcase> results.

const escapeXml = (s) => String(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]);

/**
 * @param {string} suite
 * @param {Array<{ name: string, seconds: number, failure?: string, skipped?: string }>} cases
 */
export function toJUnitXml(suite, cases) {
  const failures = cases.filter((c) => c.failure !== undefined).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const total = cases.reduce((sum, c) => sum + c.seconds, 0);
  const body = cases.map((c) => {
    const open = `    <testcase classname="${escapeXml(suite)}" name="${escapeXml(c.name)}" time="${c.seconds.toFixed(3)}"`;
    if (c.failure !== undefined) {
      const message = c.failure.split('\n')[0] ?? '';
      return `${open}>\n      <failure message="${escapeXml(message)}">${escapeXml(c.failure)}</failure>\n    </testcase>`;
    }
    if (c.skipped !== undefined) return `${open}>\n      <skipped message="${escapeXml(c.skipped)}"/>\n    </testcase>`;
    return `${open}/>`;
  }).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${total.toFixed(3)}">
  <testsuite name="${escapeXml(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${total.toFixed(3)}">
${body}
  </testsuite>
</testsuites>
`;
}

/** Runs named async checks one after the other; a thrown error is that case's failure. */
export async function runCases(checks) {
  const cases = [];
  for (const [name, check] of checks) {
    const started = performance.now();
    let failure;
    let skipped;
    try {
      const outcome = await check();
      if (typeof outcome === 'object' && outcome !== null && 'skip' in outcome) skipped = String(outcome.skip);
    } catch (error) {
      failure = error instanceof Error ? (error.stack ?? error.message) : String(error);
    }
    const seconds = (performance.now() - started) / 1000;
    cases.push({ name, seconds, failure, skipped });
    console.log(`${failure ? 'FAIL' : skipped ? 'SKIP' : 'ok  '} ${name}${failure ? `\n     ${failure.split('\n')[0]}` : ''}`);
  }
  return cases;
}
