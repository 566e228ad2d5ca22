// Static analysis of JS/TS sources with ESLint's API and the sonarjs + security rule sets
// (flat config built here; the repository's own ESLint config is deliberately not used, so the
// gate is the same for every project). Findings become Sonar-style issues (rule-mapping.ts).
import { createRequire } from 'node:module';
import { relative, resolve, sep } from 'node:path';
import { ESLint, type Linter } from 'eslint';
import sonarjs from 'eslint-plugin-sonarjs';
import tseslint from 'typescript-eslint';
import type { ScanIssue } from '../../domain/issues.ts';
import { classifyRule } from './rule-mapping.ts';

// eslint-plugin-security ships no type declarations; load it through require with a type.
const require = createRequire(import.meta.url);
const security = require('eslint-plugin-security') as ESLint.Plugin & { configs: { recommended: { rules: Linter.RulesRecord } } };

const ALL_SOURCES = ['**/*.js', '**/*.mjs', '**/*.cjs', '**/*.jsx', '**/*.ts', '**/*.mts', '**/*.cts', '**/*.tsx'];
const OUR_PLUGINS = ['sonarjs/', 'security/'];

export interface EslintScanResult {
  issues: ScanIssue[];
  /** Files ESLint could not parse (reported, not counted as issues — Sonar does the same). */
  parseErrors: { file: string; line: number; message: string }[];
}

function scanConfig(): Linter.Config[] {
  const sonarRules = sonarjs.configs.recommended.rules ?? {};
  return [
    {
      files: ALL_SOURCES,
      plugins: { sonarjs: sonarjs as unknown as ESLint.Plugin, security },
      linterOptions: { reportUnusedDisableDirectives: 'off' },
      languageOptions: { ecmaVersion: 'latest', sourceType: 'module' },
      rules: { ...sonarRules, ...security.configs.recommended.rules },
    },
    { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
    {
      files: ['**/*.ts', '**/*.mts', '**/*.cts', '**/*.tsx'],
      languageOptions: { parser: tseslint.parser as Linter.Parser },
    },
  ];
}

function toRelative(rootDir: string, filePath: string): string {
  return relative(rootDir, filePath).split(sep).join('/');
}

/** Lints `files` (relative to `rootDir`). An empty list scans nothing. */
export async function scanWithEslint(rootDir: string, files: string[]): Promise<EslintScanResult> {
  if (files.length === 0) return { issues: [], parseErrors: [] };
  const eslint = new ESLint({
    cwd: rootDir,
    overrideConfigFile: true,
    overrideConfig: scanConfig(),
    errorOnUnmatchedPattern: false,
    warnIgnored: false,
  });
  const results = await eslint.lintFiles(files.map((f) => resolve(rootDir, f)));
  const meta = eslint.getRulesMetaForResults(results);
  const issues: ScanIssue[] = [];
  const parseErrors: EslintScanResult['parseErrors'] = [];
  for (const result of results) {
    const file = toRelative(rootDir, result.filePath);
    for (const message of result.messages) {
      if (message.fatal) {
        parseErrors.push({ file, line: message.line, message: message.message });
        continue;
      }
      const ruleId = message.ruleId;
      // Messages about configuration (unknown rules in inline comments…) are not findings.
      if (!ruleId || !OUR_PLUGINS.some((p) => ruleId.startsWith(p))) continue;
      const classification = classifyRule(ruleId, meta[ruleId]?.type, message.message);
      issues.push({
        file,
        line: message.line,
        rule: ruleId,
        severity: classification.severity,
        type: classification.type,
        message: message.message,
        effortMinutes: classification.effortMinutes,
      });
    }
  }
  return { issues, parseErrors };
}
