import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  coveragePercent, parseCobertura, parseCoverage, parseCoverageFiles, parseJacoco, parseLcov,
} from '../../src/runner/reports/coverage.ts';
import { ReportParseError } from '../../src/runner/reports/report-error.ts';

// As written by c8/nyc (istanbul) for two files.
const LCOV = `TN:
SF:/build/src/a.js
FN:1,add
FNF:1
FNH:1
FNDA:3,add
DA:1,3
DA:2,3
DA:3,0
DA:4,1
LF:4
LH:3
BRDA:2,0,0,3
BRDA:2,0,1,0
BRDA:4,1,0,-
BRDA:4,1,1,1
BRF:4
BRH:2
end_of_record
TN:
SF:/build/src/b.js
DA:1,0
DA:2,0
LF:2
LH:0
BRF:0
BRH:0
end_of_record
`;

const COBERTURA = `<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage lines-valid="10" lines-covered="7" line-rate="0.7" branches-valid="4" branches-covered="1" branch-rate="0.25" timestamp="1" complexity="0" version="7.4">
  <sources><source>/build</source></sources>
  <packages><package name="src" line-rate="0.7" branch-rate="0.25" complexity="0"><classes/></package></packages>
</coverage>`;

const COBERTURA_NO_TOTALS = `<coverage line-rate="0.5" branch-rate="0.5" version="1.9">
  <packages><package name="p"><classes>
    <class name="A" filename="a.py"><methods/><lines>
      <line number="1" hits="1"/>
      <line number="2" hits="0"/>
      <line number="3" hits="2" branch="true" condition-coverage="50% (1/2)"/>
    </lines></class>
    <class name="B" filename="b.py"><lines><line number="1" hits="1"/></lines></class>
  </classes></package></packages>
</coverage>`;

const JACOCO = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd"><report name="core"><sessioninfo id="x" start="1" dump="2"/><package name="com/example"><class name="com/example/A"><counter type="LINE" missed="1" covered="1"/></class><counter type="LINE" missed="40" covered="60"/></package><counter type="INSTRUCTION" missed="100" covered="300"/><counter type="BRANCH" missed="10" covered="30"/><counter type="LINE" missed="40" covered="60"/><counter type="METHOD" missed="1" covered="9"/></report>`;

describe('coverage reports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-coverage-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('computes Sonar coverage (CT + CF + LC) / (2B + EL) with one decimal', () => {
    expect(coveragePercent({ linesFound: 10, linesHit: 7, branchesFound: 4, branchesHit: 1 })).toBe(57.1);
    expect(coveragePercent({ linesFound: 0, linesHit: 0, branchesFound: 0, branchesHit: 0 })).toBe(0);
    expect(coveragePercent({ linesFound: 3, linesHit: 3, branchesFound: 0, branchesHit: 0 })).toBe(100);
  });

  it('parses lcov from DA/BRDA entries ("-" means not taken)', () => {
    expect(parseLcov(LCOV)).toEqual({ linesFound: 6, linesHit: 3, branchesFound: 4, branchesHit: 2, coverage: 50 });
  });

  it('uses lcov LF/LH totals for records without entries', () => {
    const s = parseLcov('SF:x.js\nLF:10\nLH:4\nBRF:2\nBRH:2\nend_of_record\n');
    expect(s).toEqual({ linesFound: 10, linesHit: 4, branchesFound: 2, branchesHit: 2, coverage: 50 });
  });

  it('parses Cobertura totals, or its class lines when totals are missing', () => {
    expect(parseCobertura(COBERTURA)).toEqual({ linesFound: 10, linesHit: 7, branchesFound: 4, branchesHit: 1, coverage: 57.1 });
    expect(parseCobertura(COBERTURA_NO_TOTALS)).toEqual({ linesFound: 4, linesHit: 3, branchesFound: 2, branchesHit: 1, coverage: 66.7 });
  });

  it('parses JaCoCo report-level counters (DOCTYPE included)', () => {
    expect(parseJacoco(JACOCO)).toEqual({ linesFound: 100, linesHit: 60, branchesFound: 40, branchesHit: 30, coverage: 64.3 });
  });

  it('tells the formats apart by name and content', () => {
    expect(parseCoverage(LCOV, 'lcov.info').coverage).toBe(50);
    expect(parseCoverage(LCOV, 'coverage.txt').coverage).toBe(50);
    expect(parseCoverage(COBERTURA, 'cobertura-coverage.xml').coverage).toBe(57.1);
    expect(parseCoverage(JACOCO, 'jacoco.xml').coverage).toBe(64.3);
  });

  it('rejects malformed reports with an error naming the file', () => {
    const cases: [string, string][] = [
      ['', 'lcov.info'],
      ['DA:1,1\n', 'lcov.info'],
      ['SF:a.js\nDA:x,1\nend_of_record', 'lcov.info'],
      ['<coverage><packages></coverage>', 'cov.xml'],
      ['<html/>', 'cov.xml'],
      ['{"json": true}', 'coverage-final.json'],
    ];
    for (const [content, name] of cases) {
      let caught: unknown;
      try { parseCoverage(content, `coverage/${name}`); } catch (error) { caught = error; }
      expect(caught, content).toBeInstanceOf(ReportParseError);
      expect(String(caught)).toContain(`coverage/${name}`);
    }
  });

  it('sums files', async () => {
    writeFileSync(join(dir, 'lcov.info'), LCOV);
    writeFileSync(join(dir, 'jacoco.xml'), JACOCO);
    const s = await parseCoverageFiles([join(dir, 'lcov.info'), join(dir, 'jacoco.xml')]);
    expect(s).toEqual({ linesFound: 106, linesHit: 63, branchesFound: 44, branchesHit: 32, coverage: 63.3 });
    await expect(parseCoverageFiles([join(dir, 'nope.info')])).rejects.toThrow(/nope\.info/);
  });
});
