// JUnit XML → counts and the list of failed tests. Handles `<testsuites>` and a bare
// `<testsuite>` root, suites nested in suites, test cases directly under `<testsuites>` (Node's
// `--test-reporter=junit` puts top-level tests there) and `<failure>`, `<error>`, `<skipped>`.
// Counts come from the test cases themselves, not from suite attributes, which tools fill in
// inconsistently (Node counts nested tests in the parent suite, Maven Surefire does not).
import { foldReportFiles, ReportParseError } from './report-error.ts';
import { attr, children, parseXml, text, type XmlNode } from './xml.ts';

export interface JUnitSummary {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  failed: { suite: string; name: string; message: string }[];
}

const ARRAY_TAGS = ['testsuites', 'testsuite', 'testcase', 'failure', 'error', 'skipped'] as const;

export function emptyJUnitSummary(): JUnitSummary {
  return { tests: 0, failures: 0, errors: 0, skipped: 0, failed: [] };
}

export function parseJUnit(xml: string, file = 'junit.xml'): JUnitSummary {
  const root = parseXml(xml, file, ARRAY_TAGS);
  const tops = [...children(root, 'testsuites'), ...children(root, 'testsuite')];
  if (tops.length === 0) {
    throw new ReportParseError(file, 'not a JUnit report (no <testsuites> or <testsuite> root)');
  }
  const summary = emptyJUnitSummary();
  for (const top of children(root, 'testsuites')) walk(top, '', summary);
  for (const suite of children(root, 'testsuite')) walk(suite, attr(suite, 'name') ?? '', summary);
  return summary;
}

function walk(node: XmlNode, suiteName: string, summary: JUnitSummary): void {
  for (const testcase of children(node, 'testcase')) countCase(testcase, suiteName, summary);
  for (const suite of children(node, 'testsuite')) {
    const name = attr(suite, 'name') ?? '';
    walk(suite, suiteName && name ? `${suiteName} > ${name}` : name || suiteName, summary);
  }
  // Some generators nest <testsuites> (aggregated reports).
  for (const nested of children(node, 'testsuites')) walk(nested, suiteName, summary);
}

function countCase(testcase: XmlNode, suiteName: string, summary: JUnitSummary): void {
  summary.tests += 1;
  const name = attr(testcase, 'name') ?? '(unnamed)';
  const suite = suiteName || attr(testcase, 'classname') || '';
  const failure = children(testcase, 'failure')[0];
  const error = children(testcase, 'error')[0];
  if (failure) {
    summary.failures += 1;
    summary.failed.push({ suite, name, message: messageOf(failure) });
  } else if (error) {
    summary.errors += 1;
    summary.failed.push({ suite, name, message: messageOf(error) });
  } else if (children(testcase, 'skipped').length > 0) {
    summary.skipped += 1;
  }
}

/** The `message` attribute, else the first non-blank line of the element's text. */
function messageOf(node: XmlNode): string {
  const message = attr(node, 'message')?.trim();
  if (message) return message;
  const firstLine = text(node).split('\n').map((l) => l.trim()).find((l) => l !== '');
  return firstLine ?? attr(node, 'type') ?? 'failed';
}

export function addJUnitSummaries(a: JUnitSummary, b: JUnitSummary): JUnitSummary {
  return {
    tests: a.tests + b.tests,
    failures: a.failures + b.failures,
    errors: a.errors + b.errors,
    skipped: a.skipped + b.skipped,
    failed: [...a.failed, ...b.failed],
  };
}

/** Reads and sums several JUnit files; a malformed one throws a ReportParseError naming it. */
export function parseJUnitFiles(paths: string[]): Promise<JUnitSummary> {
  return foldReportFiles(paths, parseJUnit, addJUnitSummaries, emptyJUnitSummary());
}
