import { describe, expect, it } from 'vitest';
import { ReportParseError } from '../../src/runner/reports/report-error.ts';
import { parseSarif } from '../../src/runner/reports/sarif.ts';

// Shaped like CodeQL's output: rules in the driver with tags and security-severity.
const CODEQL = JSON.stringify({
  $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
  version: '2.1.0',
  runs: [{
    tool: {
      driver: {
        name: 'CodeQL',
        rules: [
          { id: 'js/command-line-injection', name: 'CommandInjection', defaultConfiguration: { level: 'error' },
            properties: { tags: ['security', 'external/cwe/cwe-078'], 'security-severity': '9.8', precision: 'high' } },
          { id: 'js/unused-local-variable', properties: { tags: ['maintainability'] }, defaultConfiguration: { level: 'note' } },
          { id: 'js/missing-await', properties: { tags: ['correctness'] }, defaultConfiguration: { level: 'warning' } },
          { id: 'js/weak-crypto', properties: { tags: ['security'], 'security-severity': '5.0' } },
        ],
      },
    },
    results: [
      { ruleId: 'js/command-line-injection', ruleIndex: 0, message: { text: 'This command depends on a user-provided value.' },
        locations: [{ physicalLocation: { artifactLocation: { uri: 'src/server.js', uriBaseId: '%SRCROOT%' }, region: { startLine: 12, startColumn: 3 } } }] },
      { ruleId: 'js/unused-local-variable', message: { text: 'Unused variable x.' },
        locations: [{ physicalLocation: { artifactLocation: { uri: 'src/util%20x.js' }, region: { startLine: 3 } } }] },
      { ruleIndex: 2, message: { text: 'Missing await.' }, level: 'error',
        locations: [{ physicalLocation: { artifactLocation: { uri: 'file:///build/src/a.js' }, region: { startLine: 7 } } }] },
      { ruleId: 'js/weak-crypto', message: { text: 'Weak.' }, locations: [] },
      { ruleId: 'js/unused-local-variable', message: { text: 'Suppressed.' }, suppressions: [{ kind: 'inSource' }] },
      { ruleId: 'js/unused-local-variable', kind: 'pass', message: { text: 'Passed.' } },
    ],
  }],
});

// A linter without rule metadata: only levels.
const PLAIN = JSON.stringify({
  version: '2.1.0',
  runs: [{
    tool: { driver: { name: 'lint' } },
    results: [
      { ruleId: 'no-undef', level: 'error', message: { text: 'x is not defined' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'a.js' }, region: { startLine: 1 } } }] },
      { ruleId: 'semi', level: 'warning', message: { text: 'Missing semicolon' }, locations: [{ physicalLocation: { artifactLocation: { uri: './b.js' }, region: { startLine: 2 } } }] },
      { ruleId: 'style', level: 'note', message: { text: 'n' } },
      { ruleId: 'meh', level: 'none', message: { text: 'i' } },
      { ruleId: 'default', message: { text: 'no level' } },
    ],
  }, { tool: { driver: { name: 'empty' } } }],
});

describe('parseSarif', () => {
  it('maps security tags and security-severity to vulnerabilities with CVSS bands', () => {
    const issues = parseSarif(CODEQL, 'codeql.sarif');
    expect(issues).toEqual([
      { file: 'src/server.js', line: 12, rule: 'js/command-line-injection', severity: 'blocker', type: 'VULNERABILITY', message: 'This command depends on a user-provided value.' },
      { file: 'src/util x.js', line: 3, rule: 'js/unused-local-variable', severity: 'minor', type: 'CODE_SMELL', message: 'Unused variable x.' },
      { file: '/build/src/a.js', line: 7, rule: 'js/missing-await', severity: 'critical', type: 'BUG', message: 'Missing await.' },
      { file: '', line: 0, rule: 'js/weak-crypto', severity: 'major', type: 'VULNERABILITY', message: 'Weak.' },
    ]);
  });

  it('maps levels when there is no rule metadata', () => {
    const issues = parseSarif(PLAIN);
    expect(issues.map((i) => [i.rule, i.type, i.severity, i.file])).toEqual([
      ['no-undef', 'BUG', 'critical', 'a.js'],
      ['semi', 'CODE_SMELL', 'major', 'b.js'],
      ['style', 'CODE_SMELL', 'minor', ''],
      ['meh', 'CODE_SMELL', 'info', ''],
      ['default', 'CODE_SMELL', 'major', ''],
    ]);
  });

  it('rejects malformed input with an error naming the file', () => {
    for (const bad of ['', '{', '[]', '{"version":"2.1.0"}', '{"version":"1.0.0","runs":[]}']) {
      let caught: unknown;
      try { parseSarif(bad, 'reports/x.sarif'); } catch (error) { caught = error; }
      expect(caught, bad).toBeInstanceOf(ReportParseError);
      expect(String(caught)).toContain('reports/x.sarif');
    }
  });

  it('tolerates junk entries inside an otherwise valid log', () => {
    const junk = JSON.stringify({ version: '2.1.0', runs: [null, 3, { results: [null, 'x', { message: {} }] }] });
    expect(parseSarif(junk)).toEqual([{ file: '', line: 0, rule: 'unknown', severity: 'major', type: 'CODE_SMELL', message: '' }]);
  });
});
