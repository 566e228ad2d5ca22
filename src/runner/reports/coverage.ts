// Coverage reports (lcov `.info`, Cobertura XML, JaCoCo XML) → line and branch counts, and the
// coverage figure Cloud Manager / SonarQube report:
//   coverage = (CT + CF + LC) / (2*B + EL)
// (conditions evaluated true + false + covered lines, over twice the conditions + executable
// lines). Each branch outcome counts once, so this is (branchesHit + linesHit) /
// (branchesFound + linesFound), in percent with one decimal.
import { foldReportFiles, ReportParseError } from './report-error.ts';
import { attr, children, numAttr, parseXml, type XmlNode } from './xml.ts';

export interface CoverageSummary {
  linesFound: number;
  linesHit: number;
  branchesFound: number;
  branchesHit: number;
  /** Percent, one decimal; 0 when the reports cover nothing. */
  coverage: number;
}

export type CoverageFormat = 'lcov' | 'cobertura' | 'jacoco';

export function coveragePercent(c: Omit<CoverageSummary, 'coverage'>): number {
  const found = c.linesFound + c.branchesFound;
  if (found <= 0) return 0;
  return Math.round(((c.linesHit + c.branchesHit) / found) * 1000) / 10;
}

function summary(linesFound: number, linesHit: number, branchesFound: number, branchesHit: number): CoverageSummary {
  const counts = { linesFound, linesHit, branchesFound, branchesHit };
  return { ...counts, coverage: coveragePercent(counts) };
}

export function emptyCoverage(): CoverageSummary {
  return summary(0, 0, 0, 0);
}

export function mergeCoverage(a: CoverageSummary, b: CoverageSummary): CoverageSummary {
  return summary(a.linesFound + b.linesFound, a.linesHit + b.linesHit,
    a.branchesFound + b.branchesFound, a.branchesHit + b.branchesHit);
}

/** lcov is text; the XML formats are told apart by their root element. */
export function detectCoverageFormat(content: string, fileName: string): CoverageFormat | undefined {
  const head = content.replace(/^\uFEFF/, '').trimStart();
  if (/\.info$/i.test(fileName) || (!head.startsWith('<') && /^(TN|SF):/m.test(head.slice(0, 4096)))) return 'lcov';
  if (!head.startsWith('<')) return undefined;
  if (/<report[\s>]/.test(head)) return 'jacoco';
  if (/<coverage[\s>]/.test(head)) return 'cobertura';
  return undefined;
}

export function parseCoverage(content: string, fileName: string): CoverageSummary {
  if (content.trim() === '') throw new ReportParseError(fileName, 'empty file');
  const format = detectCoverageFormat(content, fileName);
  if (format === 'lcov') return parseLcov(content, fileName);
  if (format === 'cobertura') return parseCobertura(content, fileName);
  if (format === 'jacoco') return parseJacoco(content, fileName);
  throw new ReportParseError(fileName, 'unknown coverage format (expected lcov .info, Cobertura or JaCoCo XML)');
}

/**
 * lcov: per `SF:` record, DA/BRDA entries are authoritative; the LF/LH/BRF/BRH totals are used
 * only for records that have no entries (some tools write totals alone).
 */
export function parseLcov(content: string, fileName = 'lcov.info'): CoverageSummary {
  let total = emptyCoverage();
  let records = 0;
  let current: { da: Map<number, number>; brda: Map<string, boolean>; lf: number; lh: number; brf: number; brh: number } | undefined;
  const flush = (): void => {
    if (!current) return;
    const linesFound = current.da.size > 0 ? current.da.size : current.lf;
    const linesHit = current.da.size > 0 ? [...current.da.values()].filter((n) => n > 0).length : current.lh;
    const branchesFound = current.brda.size > 0 ? current.brda.size : current.brf;
    const branchesHit = current.brda.size > 0 ? [...current.brda.values()].filter(Boolean).length : current.brh;
    total = mergeCoverage(total, summary(linesFound, linesHit, branchesFound, branchesHit));
    records += 1;
    current = undefined;
  };
  const lines = content.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('TN:')) return;
    if (line.startsWith('SF:')) {
      flush();
      current = { da: new Map(), brda: new Map(), lf: 0, lh: 0, brf: 0, brh: 0 };
      return;
    }
    if (line === 'end_of_record') { flush(); return; }
    if (!current) throw new ReportParseError(fileName, `line ${index + 1}: "${line.slice(0, 40)}" outside an SF: record`);
    const colon = line.indexOf(':');
    const key = colon < 0 ? line : line.slice(0, colon);
    const fields = colon < 0 ? [] : line.slice(colon + 1).split(',');
    const int = (value: string | undefined): number => {
      const n = Number(value);
      if (value === undefined || !Number.isFinite(n)) {
        throw new ReportParseError(fileName, `line ${index + 1}: bad number in "${line.slice(0, 60)}"`);
      }
      return n;
    };
    switch (key) {
      case 'DA': {
        const lineNo = int(fields[0]);
        current.da.set(lineNo, Math.max(current.da.get(lineNo) ?? 0, int(fields[1])));
        break;
      }
      case 'BRDA': {
        const id = `${fields[0]},${fields[1]},${fields[2]}`;
        const taken = fields[3] !== undefined && fields[3] !== '-' && int(fields[3]) > 0;
        current.brda.set(id, (current.brda.get(id) ?? false) || taken);
        break;
      }
      case 'LF': current.lf = int(fields[0]); break;
      case 'LH': current.lh = int(fields[0]); break;
      case 'BRF': current.brf = int(fields[0]); break;
      case 'BRH': current.brh = int(fields[0]); break;
      default: break; // FN, FNDA, FNF, FNH, VER…: function coverage is not part of the metric
    }
  });
  flush();
  if (records === 0) throw new ReportParseError(fileName, 'not an lcov report (no SF: record)');
  return total;
}

/** Cobertura: root totals when present, else the class-level `<line>` elements. */
export function parseCobertura(xml: string, fileName = 'cobertura.xml'): CoverageSummary {
  const root = parseXml(xml, fileName, ['package', 'class', 'line']);
  const coverage = children(root, 'coverage')[0];
  if (!coverage) throw new ReportParseError(fileName, 'not a Cobertura report (no <coverage> root)');
  if (attr(coverage, 'lines-valid') !== undefined) {
    return summary(numAttr(coverage, 'lines-valid'), numAttr(coverage, 'lines-covered'),
      numAttr(coverage, 'branches-valid'), numAttr(coverage, 'branches-covered'));
  }
  let result = emptyCoverage();
  for (const pkgs of children(coverage, 'packages')) {
    for (const pkg of children(pkgs, 'package')) {
      for (const classes of children(pkg, 'classes')) {
        for (const cls of children(classes, 'class')) result = mergeCoverage(result, coberturaClass(cls));
      }
    }
  }
  return result;
}

function coberturaClass(cls: XmlNode): CoverageSummary {
  let linesFound = 0; let linesHit = 0; let branchesFound = 0; let branchesHit = 0;
  for (const lines of children(cls, 'lines')) {
    for (const line of children(lines, 'line')) {
      linesFound += 1;
      if (numAttr(line, 'hits') > 0) linesHit += 1;
      // condition-coverage="50% (1/2)"
      const match = /\((\d+)\/(\d+)\)/.exec(attr(line, 'condition-coverage') ?? '');
      if (attr(line, 'branch') === 'true' && match) {
        branchesHit += Number(match[1]);
        branchesFound += Number(match[2]);
      }
    }
  }
  return summary(linesFound, linesHit, branchesFound, branchesHit);
}

/** JaCoCo: the report-level LINE and BRANCH counters are the totals. */
export function parseJacoco(xml: string, fileName = 'jacoco.xml'): CoverageSummary {
  const root = parseXml(xml, fileName, ['counter']);
  const report = children(root, 'report')[0];
  if (!report) throw new ReportParseError(fileName, 'not a JaCoCo report (no <report> root)');
  const counter = (type: string): { missed: number; covered: number } => {
    const c = children(report, 'counter').find((node) => attr(node, 'type') === type);
    return c ? { missed: numAttr(c, 'missed'), covered: numAttr(c, 'covered') } : { missed: 0, covered: 0 };
  };
  const line = counter('LINE');
  const branch = counter('BRANCH');
  return summary(line.missed + line.covered, line.covered, branch.missed + branch.covered, branch.covered);
}

/** Reads and sums several coverage files; a malformed one throws a ReportParseError naming it. */
export function parseCoverageFiles(paths: string[]): Promise<CoverageSummary> {
  return foldReportFiles(paths, parseCoverage, mergeCoverage, emptyCoverage());
}
