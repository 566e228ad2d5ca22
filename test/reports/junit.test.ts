import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJUnit, parseJUnitFiles } from '../../src/runner/reports/junit.ts';
import { ReportParseError } from '../../src/runner/reports/report-error.ts';

const SUREFIRE = `<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="com.example.CalcTest" time="0.05" tests="4" errors="1" skipped="1" failures="1">
  <properties><property name="java.version" value="17"/></properties>
  <testcase name="adds" classname="com.example.CalcTest" time="0.001"/>
  <testcase name="divides" classname="com.example.CalcTest" time="0.002">
    <failure message="expected: &lt;2&gt; but was: &lt;3&gt;" type="org.opentest4j.AssertionFailedError">stack</failure>
  </testcase>
  <testcase name="parses" classname="com.example.CalcTest" time="0.001">
    <error type="java.lang.NullPointerException">java.lang.NullPointerException: boom
	at com.example.Calc.parse(Calc.java:10)</error>
  </testcase>
  <testcase name="later" classname="com.example.CalcTest" time="0"><skipped/></testcase>
  <system-out><![CDATA[hello]]></system-out>
</testsuite>`;

const JEST = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="3" failures="0" errors="0" time="1.2">
  <testsuite name="api" errors="0" failures="0" skipped="1" timestamp="2024-01-01T00:00:00" time="1.1" tests="3">
    <testcase classname="api GET /" name="api GET / answers 200" time="0.01"></testcase>
    <testcase classname="api GET /x" name="api GET /x answers 404" time="0.01"></testcase>
    <testcase classname="api todo" name="api todo" time="0"><skipped/></testcase>
  </testsuite>
</testsuites>`;

describe('parseJUnit', () => {
  let dir: string;
  let nodeXml: string;

  beforeAll(() => {
    // Real output of Node's own junit reporter, generated now (its format differs by version).
    dir = mkdtempSync(join(tmpdir(), 'slipway-junit-'));
    writeFileSync(join(dir, 'sample.test.mjs'), `
import { test, describe } from 'node:test';
import assert from 'node:assert';
test('top level passes', () => {});
describe('math', () => {
  test('adds', () => { assert.strictEqual(1 + 1, 2); });
  test('fails <badly> & "loudly"', () => { assert.strictEqual(1 + 1, 3); });
  test('skipped one', { skip: 'not today' }, () => {});
  test('todo one', { todo: true }, () => {});
  describe('inner', () => { test('deep failure', () => { throw new Error('boom'); }); });
});
`);
    const run = spawnSync(process.execPath, ['--test', '--test-reporter=junit', 'sample.test.mjs'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    nodeXml = run.stdout;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads Node's --test-reporter=junit output, nested suites and top-level cases included", () => {
    expect(nodeXml).toContain('<testsuites>');
    const s = parseJUnit(nodeXml, 'node.xml');
    expect(s).toMatchObject({ tests: 6, failures: 2, errors: 0, skipped: 2 });
    expect(s.failed.map((f) => [f.suite, f.name])).toEqual([
      ['math', 'fails <badly> & &quot;loudly&quot;'],
      ['math > inner', 'deep failure'],
    ]);
    expect(s.failed[1]?.message).toBe('boom');
  });

  it('reads a bare Surefire <testsuite> with failure, error and skipped', () => {
    const s = parseJUnit(SUREFIRE, 'TEST-Calc.xml');
    expect(s).toMatchObject({ tests: 4, failures: 1, errors: 1, skipped: 1 });
    expect(s.failed).toEqual([
      { suite: 'com.example.CalcTest', name: 'divides', message: 'expected: <2> but was: <3>' },
      { suite: 'com.example.CalcTest', name: 'parses', message: 'java.lang.NullPointerException: boom' },
    ]);
  });

  it('reads jest-junit style <testsuites>', () => {
    expect(parseJUnit(JEST)).toMatchObject({ tests: 3, failures: 0, errors: 0, skipped: 1, failed: [] });
  });

  it('accepts an empty suite', () => {
    expect(parseJUnit('<testsuites/>')).toMatchObject({ tests: 0, failures: 0 });
    expect(parseJUnit('<testsuite name="x" tests="0"></testsuite>')).toMatchObject({ tests: 0 });
  });

  it('rejects malformed input with an error naming the file', () => {
    for (const bad of ['', '<testsuite><testcase></testsuite>', 'not xml at all', '<html><body/></html>']) {
      let caught: unknown;
      try { parseJUnit(bad, 'reports/junit/bad.xml'); } catch (error) { caught = error; }
      expect(caught).toBeInstanceOf(ReportParseError);
      expect(String(caught)).toContain('reports/junit/bad.xml');
    }
  });

  it('sums several files and names a missing one', async () => {
    writeFileSync(join(dir, 'a.xml'), SUREFIRE);
    writeFileSync(join(dir, 'b.xml'), JEST);
    const s = await parseJUnitFiles([join(dir, 'a.xml'), join(dir, 'b.xml')]);
    expect(s).toMatchObject({ tests: 7, failures: 1, errors: 1, skipped: 2 });
    expect(s.failed).toHaveLength(2);
    await expect(parseJUnitFiles([join(dir, 'missing.xml')])).rejects.toThrow(/missing\.xml/);
    writeFileSync(join(dir, 'broken.xml'), '<testsuite>');
    await expect(parseJUnitFiles([join(dir, 'a.xml'), join(dir, 'broken.xml')])).rejects.toThrow(/broken\.xml/);
  });
});
