// SARIF 2.1.0 (any scanner's output) → Sonar-style issues.
// Type: a rule or result tagged `security` (or carrying `security-severity`, or a CWE tag) is a
// VULNERABILITY; tagged correctness/reliability/bug, or level `error` without tags, a BUG;
// everything else a CODE_SMELL.
// Severity: `security-severity` (CVSS-like, 0–10) when present — ≥9 blocker, ≥7 critical,
// ≥4 major, >0 minor; otherwise from the level — error → critical, warning → major,
// note → minor, none → info. (SARIF's default level is warning.)
// Results that are suppressed, or whose kind is not `fail`, are not issues.
import { severityFromScore, type IssueSeverity, type IssueType, type ScanIssue } from '../../domain/issues.ts';
import { foldReportFiles, ReportParseError } from './report-error.ts';

type Json = Record<string, unknown>;

function obj(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}
function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

interface RuleInfo { id: string; tags: string[]; securitySeverity?: number; level?: string; name?: string }

function ruleInfo(rule: Json): RuleInfo {
  const props = obj(rule['properties']) ?? {};
  const score = Number(str(props['security-severity']) ?? props['security-severity']);
  return {
    id: str(rule['id']) ?? '',
    name: str(rule['name']),
    tags: arr(props['tags']).filter((t): t is string => typeof t === 'string'),
    securitySeverity: Number.isFinite(score) && props['security-severity'] !== undefined ? score : undefined,
    level: str(obj(rule['defaultConfiguration'])?.['level']),
  };
}

function fileOf(result: Json): { file: string; line: number } {
  const location = obj(arr(result['locations'])[0]);
  const physical = obj(location?.['physicalLocation']);
  const uri = str(obj(physical?.['artifactLocation'])?.['uri']) ?? '';
  const line = Number(obj(physical?.['region'])?.['startLine'] ?? 0);
  let file = uri;
  if (uri.startsWith('file://')) {
    try { file = decodeURIComponent(new URL(uri).pathname); } catch { file = uri.slice('file://'.length); }
  } else {
    try { file = decodeURIComponent(uri); } catch { file = uri; }
  }
  return { file: file.replace(/^\.\//, ''), line: Number.isInteger(line) && line > 0 ? line : 0 };
}

function classify(tags: string[], level: string, securitySeverity: number | undefined): IssueType {
  const lower = tags.map((t) => t.toLowerCase());
  if (securitySeverity !== undefined || lower.includes('security') || lower.some((t) => /(^|\/)cwe-?\d*/.test(t))) {
    return 'VULNERABILITY';
  }
  if (lower.some((t) => ['correctness', 'reliability', 'bug'].includes(t))) return 'BUG';
  if (lower.some((t) => ['maintainability', 'style', 'code-smell', 'readability'].includes(t))) return 'CODE_SMELL';
  return level === 'error' ? 'BUG' : 'CODE_SMELL';
}

function severityOf(level: string, securitySeverity: number | undefined): IssueSeverity {
  if (securitySeverity !== undefined) return severityFromScore(securitySeverity);
  switch (level) {
    case 'error': return 'critical';
    case 'note': return 'minor';
    case 'none': return 'info';
    default: return 'major';
  }
}

export function parseSarif(content: string, file = 'report.sarif'): ScanIssue[] {
  let doc: unknown;
  try {
    doc = JSON.parse(content);
  } catch (error) {
    throw new ReportParseError(file, `invalid JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const root = obj(doc);
  if (!root || !Array.isArray(root['runs'])) throw new ReportParseError(file, 'not a SARIF log (no "runs" array)');
  const version = str(root['version']);
  if (version !== undefined && !version.startsWith('2.')) {
    throw new ReportParseError(file, `unsupported SARIF version ${version} (expected 2.1.0)`);
  }
  const issues: ScanIssue[] = [];
  for (const runValue of arr(root['runs'])) {
    const run = obj(runValue);
    if (!run) continue;
    const tool = obj(run['tool']);
    const components = [obj(tool?.['driver']), ...arr(tool?.['extensions']).map(obj)];
    const driverRules = arr(obj(tool?.['driver'])?.['rules']).map((r) => ruleInfo(obj(r) ?? {}));
    const byId = new Map<string, RuleInfo>();
    for (const component of components) {
      for (const r of arr(component?.['rules'])) {
        const info = ruleInfo(obj(r) ?? {});
        if (info.id) byId.set(info.id, info);
      }
    }
    for (const resultValue of arr(run['results'])) {
      const result = obj(resultValue);
      if (!result) continue;
      const kind = str(result['kind']) ?? 'fail';
      if (kind !== 'fail' || arr(result['suppressions']).length > 0) continue;
      const ruleRef = obj(result['rule']);
      const ruleId = str(result['ruleId']) ?? str(ruleRef?.['id']);
      const index = Number(result['ruleIndex'] ?? ruleRef?.['index']);
      const rule = (ruleId !== undefined ? byId.get(ruleId) : undefined)
        ?? (Number.isInteger(index) ? driverRules[index] : undefined);
      const props = obj(result['properties']) ?? {};
      const resultScore = Number(str(props['security-severity']) ?? props['security-severity']);
      const securitySeverity = props['security-severity'] !== undefined && Number.isFinite(resultScore)
        ? resultScore : rule?.securitySeverity;
      const tags = [...(rule?.tags ?? []), ...arr(props['tags']).filter((t): t is string => typeof t === 'string')];
      const level = str(result['level']) ?? rule?.level ?? 'warning';
      const message = obj(result['message']);
      issues.push({
        ...fileOf(result),
        rule: ruleId ?? rule?.id ?? 'unknown',
        severity: severityOf(level, securitySeverity),
        type: classify(tags, level, securitySeverity),
        message: str(message?.['text']) ?? str(message?.['markdown']) ?? rule?.name ?? ruleId ?? '',
      });
    }
  }
  return issues;
}

export function parseSarifFiles(paths: string[]): Promise<ScanIssue[]> {
  return foldReportFiles(paths, parseSarif, (all: ScanIssue[], some: ScanIssue[]) => [...all, ...some], []);
}
