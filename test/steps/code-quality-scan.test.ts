import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { evaluateGate } from '../../src/domain/quality-gate.ts';
import { parseLcov } from '../../src/runner/reports/coverage.ts';
import { assessCodeQuality, dedupeIssues } from '../../src/steps/scan/assess.ts';
import { detectDuplication, summarizeClones } from '../../src/steps/scan/duplication.ts';
import { classifyRule } from '../../src/steps/scan/rule-mapping.ts';
import { scanSources } from '../../src/steps/scan/scan-sources.ts';
import { countLinesOfCode, countPhysicalLines, tokenize } from '../../src/steps/scan/tokens.ts';

const dirs: string[] = [];
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-scan-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}
afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

const CLEAN = {
  'src/math.mjs': `// Small, tidy helpers.
export function add(a, b) {
  return a + b;
}

/* Multiplies
   two numbers. */
export function multiply(a, b) {
  return a * b;
}
`,
  'src/greet.ts': `export interface Person { name: string }
export function greet(person: Person): string {
  return \`Hello, \${person.name}\`;
}
`,
  'package.json': '{"name":"clean","type":"module"}',
};

const VULNERABLE = {
  'src/server.js': `const child_process = require('child_process');
function handle(req, res) {
  const userInput = req.query.code;
  const result = eval(userInput);
  child_process.exec(req.query.cmd);
  res.send(String(result));
}
module.exports = { handle };
`,
  'package.json': '{"name":"vulnerable"}',
};

// A 12-line function body of well over 100 tokens, repeated in two files.
const BLOCK = Array.from({ length: 12 }, (_, i) => `  total = total + compute(values[${i}], weights[${i}], offsets[${i}]) * factor;`).join('\n');
const DUPLICATED = {
  'src/a.js': `export function first(values, weights, offsets, factor) {\n  let total = 0;\n${BLOCK}\n  return total;\n}\n`,
  'src/b.js': `export function second(values, weights, offsets, factor) {\n  let total = 0;\n${BLOCK}\n  return total;\n}\n`,
};

describe('tokens and lines of code', () => {
  it('counts non-blank, non-comment lines', () => {
    const source = `// comment\n\nconst a = 1; // trailing\n/* block\n   comment */\nconst s = "// not a comment";\nconst t = \`multi\nline\`;\nconst r = /\\/\\/x/g;\n`;
    expect(countLinesOfCode(source)).toBe(5);
    expect(countPhysicalLines(source)).toBe(9);
    expect(countPhysicalLines('')).toBe(0);
    expect(countPhysicalLines('a\nb')).toBe(2);
  });

  it('keeps strings and regular expressions whole, divisions apart', () => {
    expect(tokenize('x = a / b / c').map((t) => t.text)).toEqual(['x', '=', 'a', '/', 'b', '/', 'c']);
    expect(tokenize('x = /"[/]"/g.test(s)').map((t) => t.text)).toEqual(['x', '=', '/"[/]"/g', '.', 'test', '(', 's', ')']);
    expect(tokenize("f('it\\'s', \"q\")").map((t) => t.text)).toEqual(['f', '(', "'it\\'s'", ',', '"q"', ')']);
  });
});

describe('duplication', () => {
  const asSources = (files: Record<string, string>): { file: string; content: string }[] =>
    Object.entries(files).map(([file, content]) => ({ file, content }));
  /** `count` lines of ~16 tokens each: well over 100 tokens once count ≥ 7. */
  const body = (count: number): string => Array.from({ length: count }, (_, i) => `  sum += weigh(items[${i}], scale[${i}], shift[${i}]) * k;`).join('\n');

  it('finds a block of ≥100 tokens over ≥10 lines repeated across files', async () => {
    const result = await detectDuplication(asSources(DUPLICATED));
    expect(result.blocks.map((b) => b.file).sort()).toEqual(['src/a.js', 'src/b.js']);
    expect(result.totalLines).toBe(32);
    expect(result.duplicatedLines).toBeGreaterThanOrEqual(24);
    expect(result.density).toBeGreaterThan(70);
    expect(result.density).toBe(Math.round((result.duplicatedLines / 32) * 1000) / 10);
  });

  it('ignores short repeats and unique code', async () => {
    const short = 'export const x = compute(a, b, c) + compute(d, e, f);\n';
    const result = await detectDuplication([{ file: 'a.js', content: short }, { file: 'b.js', content: short }]);
    expect(result).toMatchObject({ duplicatedLines: 0, density: 0, blocks: [] });
    expect((await detectDuplication([])).density).toBe(0);
    expect((await detectDuplication(asSources(CLEAN))).density).toBe(0);
  });

  it('does not count a long one-line repeat (under 10 lines)', async () => {
    const line = `export const v = [${Array.from({ length: 120 }, (_, i) => i).join(', ')}];\n`;
    expect((await detectDuplication([{ file: 'a.js', content: line }, { file: 'b.js', content: line }])).duplicatedLines).toBe(0);
  });

  it('needs the repeat to span 10 lines, not 9', async () => {
    const fn = (lines: number): string => `function f(items, scale, shift, k) {\n  let sum = 0;\n${body(lines)}\n}\n`;
    const ten = await detectDuplication([{ file: 'a.js', content: `const q = 1;\n${fn(7)}` }, { file: 'b.js', content: fn(7) }]);
    expect(ten.blocks).toEqual([{ file: 'a.js', startLine: 2, endLine: 11 }, { file: 'b.js', startLine: 1, endLine: 10 }]);
    const nine = await detectDuplication([{ file: 'a.js', content: fn(6) }, { file: 'b.js', content: fn(6) }]);
    expect(nine.duplicatedLines).toBe(0);
  });

  it('counts each duplicated line once, finds repeats within one file and odd file names', async () => {
    const block = `function g(items, scale, shift, k) {\n  let sum = 0;\n${body(12)}\n  return sum;\n}\n`;
    const result = await detectDuplication([
      { file: 'app/[id]/page.js', content: `${block}${block.replace('function g', 'function h')}` },
      { file: 'src/(group)/x.js', content: block },
    ]);
    expect(result.totalLines).toBe(48);
    // All three copies are wholly duplicated; the copy in page.js is covered by two clone pairs.
    expect(result.duplicatedLines).toBeGreaterThanOrEqual(3 * 14);
    expect(result.duplicatedLines).toBeLessThanOrEqual(48);
    expect(new Set(result.blocks.map((b) => b.file))).toEqual(new Set(['app/[id]/page.js', 'src/(group)/x.js']));
  });

  it('merges overlapping clone ranges per file', () => {
    const result = summarizeClones(
      [
        { file: 'a.js', startLine: 1, endLine: 20 }, { file: 'b.js', startLine: 5, endLine: 24 },
        { file: 'a.js', startLine: 11, endLine: 30 }, { file: 'c.js', startLine: 1, endLine: 20 },
        { file: 'a.js', startLine: 41, endLine: 50 }, { file: 'c.js', startLine: 31, endLine: 40 },
      ],
      [{ file: 'a.js', content: 'x\n'.repeat(100) }, { file: 'b.js', content: 'x\n'.repeat(50) }, { file: 'c.js', content: 'x\n'.repeat(50) }],
    );
    expect(result.blocks).toEqual([
      { file: 'a.js', startLine: 1, endLine: 30 }, { file: 'a.js', startLine: 41, endLine: 50 },
      { file: 'b.js', startLine: 5, endLine: 24 },
      { file: 'c.js', startLine: 1, endLine: 20 }, { file: 'c.js', startLine: 31, endLine: 40 },
    ]);
    expect(result.duplicatedLines).toBe(30 + 10 + 20 + 20 + 10);
    expect(result.totalLines).toBe(200);
    expect(result.density).toBe(45);
  });
});

describe('rule mapping', () => {
  it('maps injection and credentials to severe vulnerabilities', () => {
    expect(classifyRule('sonarjs/code-eval', 'problem', '')).toMatchObject({ type: 'VULNERABILITY', severity: 'critical' });
    expect(classifyRule('security/detect-eval-with-expression', 'problem', '')).toMatchObject({ type: 'VULNERABILITY', severity: 'critical' });
    expect(classifyRule('sonarjs/os-command', 'problem', '')).toMatchObject({ type: 'VULNERABILITY', severity: 'critical' });
    expect(classifyRule('sonarjs/no-hardcoded-passwords', 'problem', '')).toMatchObject({ type: 'VULNERABILITY', severity: 'blocker' });
    expect(classifyRule('security/detect-child-process', 'error', 'Found child_process.exec() with non Literal first argument'))
      .toMatchObject({ type: 'VULNERABILITY', severity: 'critical' });
    expect(classifyRule('security/detect-child-process', 'error', "Found require('child_process')"))
      .toMatchObject({ type: 'VULNERABILITY', severity: 'info' });
    expect(classifyRule('sonarjs/weak-ssl', 'problem', '')).toMatchObject({ type: 'VULNERABILITY', severity: 'major' });
    expect(classifyRule('security/detect-some-future-rule', 'problem', '')).toMatchObject({ type: 'VULNERABILITY', severity: 'major' });
    // Sonar's security hotspots: reviewed, not rated.
    for (const hotspot of ['security/detect-object-injection', 'sonarjs/sql-queries', 'sonarjs/no-os-command-from-path', 'sonarjs/no-clear-text-protocols', 'sonarjs/aws-s3-bucket-versioning']) {
      expect(classifyRule(hotspot, 'problem', ''), hotspot).toMatchObject({ type: 'VULNERABILITY', severity: 'info', effortMinutes: 0 });
    }
  });

  it('maps other problems to bugs and the rest to smells with effort', () => {
    expect(classifyRule('sonarjs/no-identical-expressions', 'problem', '')).toMatchObject({ type: 'BUG', severity: 'major' });
    expect(classifyRule('sonarjs/no-collapsible-if', 'suggestion', '')).toEqual({ type: 'CODE_SMELL', severity: 'major', effortMinutes: 5 });
    expect(classifyRule('sonarjs/cognitive-complexity', 'suggestion', 'Refactor this function to reduce its Cognitive Complexity from 27 to the 15 allowed.'))
      .toEqual({ type: 'CODE_SMELL', severity: 'critical', effortMinutes: 17 });
    expect(classifyRule('sonarjs/todo-tag', 'suggestion', '')).toMatchObject({ severity: 'info', effortMinutes: 0 });
  });
});

describe('scanSources', () => {
  it('rates a clean project A with no vulnerabilities', async () => {
    const dir = project(CLEAN);
    const scan = await scanSources(dir, ['src/**/*.{js,mjs,ts}']);
    expect(scan.files).toEqual(['src/greet.ts', 'src/math.mjs']);
    expect(scan.linesOfCode).toBe(10);
    expect(scan.duplication).toMatchObject({ density: 0, duplicatedLines: 0, blocks: [] });
    expect(scan.parseErrors).toEqual([]);
    expect(scan.issues.filter((i) => i.type === 'VULNERABILITY')).toEqual([]);
    const assessment = assessCodeQuality({ issues: scan.issues, linesOfCode: scan.linesOfCode, coveragePercent: 90, skippedTests: 0, duplicatedLinesDensity: scan.duplication.density });
    expect(assessment.measures.securityRating).toBe('A');
    expect(assessment.measures.reliabilityRating).toBe('A');
    expect(evaluateGate(assessment.metrics, 'ask').outcome).toBe('finished');
  });

  it('rates eval(userInput) and exec(req.query.cmd) D or worse and fails the gate', async () => {
    const dir = project(VULNERABLE);
    const scan = await scanSources(dir, ['src/**/*.js']);
    const vulns = scan.issues.filter((i) => i.type === 'VULNERABILITY' && i.severity !== 'info');
    expect(vulns.map((v) => [v.file, v.line])).toEqual(expect.arrayContaining([['src/server.js', 4], ['src/server.js', 5]]));
    const assessment = assessCodeQuality({ issues: scan.issues, linesOfCode: scan.linesOfCode, coveragePercent: 90, skippedTests: 0, duplicatedLinesDensity: 0 });
    expect(['D', 'E']).toContain(assessment.measures.securityRating);
    for (const behavior of ['ask', 'fail', 'continue'] as const) {
      const decision = evaluateGate(assessment.metrics, behavior);
      expect(decision.outcome).toBe('failed');
      expect(decision.outcome === 'failed' && decision.reason).toMatch(/^Critical quality metrics failed: security_rating/);
    }
  });

  it('reports duplication density from the scanned files only, writing and printing nothing', async () => {
    const dir = project({ ...DUPLICATED, 'other/c.js': DUPLICATED['src/a.js'] });
    const printed = vi.spyOn(process.stdout, 'write');
    const logged = vi.spyOn(console, 'log');
    try {
      const scan = await scanSources(dir, ['src/*.js']);
      expect(scan.duplication.density).toBeGreaterThan(70);
      expect(scan.duplication.blocks.map((b) => b.file).sort()).toEqual(['src/a.js', 'src/b.js']);
      expect(printed).not.toHaveBeenCalled();
      expect(logged).not.toHaveBeenCalled();
    } finally {
      printed.mockRestore();
      logged.mockRestore();
    }
    expect(readdirSync(dir).sort()).toEqual(['other', 'src']);
  });

  it('does not fail the security gate on hotspots in ordinary code', async () => {
    const dir = project({ 'src/run.mjs': `import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
export function run(args, file) {
  const config = readFileSync(file, 'utf8');
  const url = 'http://127.0.0.1:8080/health';
  return [spawn('git', args), config, url, \`LISTEN \${args[0]}\`];
}
` });
    const scan = await scanSources(dir, ['src/*.mjs']);
    expect(scan.issues.filter((i) => i.type === 'VULNERABILITY').length).toBeGreaterThan(0);
    const assessment = assessCodeQuality({ issues: scan.issues, linesOfCode: scan.linesOfCode, coveragePercent: 90, skippedTests: 0, duplicatedLinesDensity: 0 });
    expect(assessment.measures.securityRating).toBe('A');
  });

  it('reports unparsable files without crashing', async () => {
    const scan = await scanSources(project({ 'src/broken.js': 'function (\n', 'src/ok.js': 'export const a = 1;\n' }), ['src/*.js']);
    expect(scan.parseErrors).toHaveLength(1);
    expect(scan.parseErrors[0]?.file).toBe('src/broken.js');
    expect(scan.files).toHaveLength(2);
  });

  it('waits, fails or continues on low coverage per the pipeline option', () => {
    const coverage = parseLcov('SF:src/a.js\nDA:1,1\nDA:2,0\nDA:3,0\nDA:4,0\nend_of_record\n');
    expect(coverage.coverage).toBe(25);
    const assessment = assessCodeQuality({ issues: [], linesOfCode: 4, coveragePercent: coverage.coverage, skippedTests: 0, duplicatedLinesDensity: 0 });
    expect(evaluateGate(assessment.metrics, 'ask').outcome).toBe('waiting');
    expect(evaluateGate(assessment.metrics, 'fail').outcome).toBe('failed');
    expect(evaluateGate(assessment.metrics, 'continue').outcome).toBe('finished');
  });

  it('counts a finding reported twice once', () => {
    const issue = { file: 'a.js', line: 1, rule: 'r', type: 'BUG' as const, severity: 'major' as const, message: 'm' };
    expect(dedupeIssues([issue, { ...issue }, { ...issue, line: 2 }])).toHaveLength(2);
  });
});
