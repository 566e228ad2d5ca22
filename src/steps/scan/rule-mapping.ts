// ESLint rule → SonarQube issue type, severity and remediation effort. Pure.
//
// VULNERABILITY (lowers the security rating, a critical gate at "worse than B", which no one
// can override — so only findings that are real vulnerabilities may lower it):
//   blocker  — hard-coded credentials: sonarjs/no-hardcoded-passwords, no-hardcoded-secrets,
//              hardcoded-secret-signatures (Sonar S2068/S6418 are blockers too).
//   critical — code and command injection and the classic injection / TLS-bypass sinks:
//              sonarjs/code-eval, security/detect-eval-with-expression, sonarjs/os-command,
//              security/detect-child-process (only the "non Literal" finding — merely
//              requiring child_process is a hotspot), security/detect-non-literal-require,
//              sonarjs/xml-parser-xxe, unverified-certificate, unverified-hostname,
//              insecure-jwt-token, disabled-auto-escaping, dynamically-constructed-templates,
//              security/detect-disable-mustache-escape, detect-bidi-characters.
//   major    — weak cryptography and unsafe APIs Sonar files as vulnerabilities: sonarjs/weak-ssl,
//              no-weak-cipher, no-weak-keys, encryption-secure-mode, session-regeneration,
//              no-angular-bypass-sanitization, dompurify-unsafe-config, security/detect-new-buffer,
//              detect-buffer-noassert, detect-pseudoRandomBytes,
//              detect-no-csrf-before-method-override, detect-invisible-characters; and any
//              security/* rule not listed here.
//   info     — what Sonar calls "security hotspots to review", which do not lower its security
//              rating: SQL built with templates (sonarjs/sql-queries), commands resolved from
//              PATH, hashing, pseudo-random, cookies, CORS, CSRF, HTTP headers, clear-text URLs,
//              /tmp paths, hard-coded IPs, logging, sonarjs/aws-* and the security plugin's
//              heuristics (object-injection, non-literal-fs-filename, non-literal-regexp,
//              possible-timing-attacks, unsafe-regex). They still count as open issues.
//              (Running the scan on a real code base showed these fire on ordinary code —
//              `spawn('git', …)`, `LISTEN ${CONSTANT}` — and would fail the gate for nothing.)
// BUG (reliability rating): any other sonarjs rule whose meta.type is 'problem' — major.
// CODE_SMELL (maintainability rating, via effort): every remaining rule — major, 5 min each;
//   cognitive-complexity critical, 5 min + 1 min per point over the limit (Sonar's formula);
//   no-identical-functions 15 min; no-duplicate-string critical, 2 min per duplicate;
//   todo/fixme tags info, 0 min.
import type { IssueSeverity, IssueType } from '../../domain/issues.ts';

export interface RuleClassification {
  type: IssueType;
  severity: IssueSeverity;
  effortMinutes: number;
}

const SECURITY_BLOCKER = new Set([
  'sonarjs/no-hardcoded-passwords', 'sonarjs/no-hardcoded-secrets', 'sonarjs/hardcoded-secret-signatures',
]);

const SECURITY_CRITICAL = new Set([
  'sonarjs/code-eval', 'security/detect-eval-with-expression', 'sonarjs/os-command',
  'security/detect-non-literal-require', 'sonarjs/xml-parser-xxe', 'sonarjs/unverified-certificate',
  'sonarjs/unverified-hostname', 'sonarjs/insecure-jwt-token', 'security/detect-disable-mustache-escape',
  'sonarjs/disabled-auto-escaping', 'sonarjs/dynamically-constructed-templates', 'security/detect-bidi-characters',
]);

const SECURITY_MAJOR = new Set([
  'sonarjs/weak-ssl', 'sonarjs/no-weak-cipher', 'sonarjs/no-weak-keys', 'sonarjs/encryption-secure-mode',
  'sonarjs/session-regeneration', 'sonarjs/no-angular-bypass-sanitization', 'sonarjs/dompurify-unsafe-config',
  'security/detect-new-buffer', 'security/detect-buffer-noassert', 'security/detect-pseudoRandomBytes',
  'security/detect-no-csrf-before-method-override', 'security/detect-invisible-characters',
]);

const SECURITY_HOTSPOT = new Set([
  'security/detect-object-injection', 'security/detect-non-literal-fs-filename', 'security/detect-non-literal-regexp',
  'security/detect-possible-timing-attacks', 'security/detect-unsafe-regex',
  'sonarjs/sql-queries', 'sonarjs/no-os-command-from-path', 'sonarjs/hashing', 'sonarjs/pseudo-random',
  'sonarjs/insecure-cookie', 'sonarjs/cookie-no-httponly', 'sonarjs/csrf', 'sonarjs/cors', 'sonarjs/production-debug',
  'sonarjs/file-uploads', 'sonarjs/file-permissions', 'sonarjs/publicly-writable-directories',
  'sonarjs/no-clear-text-protocols', 'sonarjs/link-with-target-blank', 'sonarjs/no-intrusive-permissions',
  'sonarjs/x-powered-by', 'sonarjs/hidden-files', 'sonarjs/content-length', 'sonarjs/disabled-resource-integrity',
  'sonarjs/content-security-policy', 'sonarjs/no-mixed-content', 'sonarjs/frame-ancestors', 'sonarjs/no-mime-sniff',
  'sonarjs/no-referrer-policy', 'sonarjs/strict-transport-security', 'sonarjs/confidential-information-logging',
  'sonarjs/no-ip-forward', 'sonarjs/web-sql-database', 'sonarjs/post-message', 'sonarjs/no-hardcoded-ip',
  'sonarjs/review-blockchain-mnemonic', 'sonarjs/no-session-cookies-on-static-assets',
]);

const DEFAULT_SMELL_MINUTES = 5;

/** Sonar's cognitive-complexity remediation: 5 min + 1 min per point above the threshold. */
function cognitiveComplexityEffort(message: string): number {
  const match = /from (\d+) to the (\d+) allowed/.exec(message);
  if (!match) return 10;
  return 5 + Math.max(0, Number(match[1]) - Number(match[2]));
}

function duplicateStringEffort(message: string): number {
  const match = /duplicated (\d+) times/.exec(message);
  return match ? 2 * Number(match[1]) : DEFAULT_SMELL_MINUTES;
}

/**
 * Classifies one ESLint finding. `metaType` is the rule's `meta.type` ('problem', 'suggestion',
 * 'layout'), used to tell sonarjs bugs from code smells.
 */
export function classifyRule(ruleId: string, metaType: string | undefined, message: string): RuleClassification {
  if (SECURITY_BLOCKER.has(ruleId)) return { type: 'VULNERABILITY', severity: 'blocker', effortMinutes: 30 };
  if (ruleId === 'security/detect-child-process') {
    return /non literal/i.test(message)
      ? { type: 'VULNERABILITY', severity: 'critical', effortMinutes: 30 }
      : { type: 'VULNERABILITY', severity: 'info', effortMinutes: 0 };
  }
  if (SECURITY_CRITICAL.has(ruleId)) return { type: 'VULNERABILITY', severity: 'critical', effortMinutes: 30 };
  if (SECURITY_MAJOR.has(ruleId)) return { type: 'VULNERABILITY', severity: 'major', effortMinutes: 15 };
  if (SECURITY_HOTSPOT.has(ruleId) || ruleId.startsWith('sonarjs/aws-')) return { type: 'VULNERABILITY', severity: 'info', effortMinutes: 0 };
  if (ruleId.startsWith('security/')) return { type: 'VULNERABILITY', severity: 'major', effortMinutes: 15 };
  if (metaType === 'problem') return { type: 'BUG', severity: 'major', effortMinutes: 10 };
  switch (ruleId) {
    case 'sonarjs/cognitive-complexity':
      return { type: 'CODE_SMELL', severity: 'critical', effortMinutes: cognitiveComplexityEffort(message) };
    case 'sonarjs/no-identical-functions':
      return { type: 'CODE_SMELL', severity: 'major', effortMinutes: 15 };
    case 'sonarjs/no-duplicate-string':
      return { type: 'CODE_SMELL', severity: 'critical', effortMinutes: duplicateStringEffort(message) };
    case 'sonarjs/todo-tag':
    case 'sonarjs/fixme-tag':
      return { type: 'CODE_SMELL', severity: 'info', effortMinutes: 0 };
    default:
      return { type: 'CODE_SMELL', severity: 'major', effortMinutes: DEFAULT_SMELL_MINUTES };
  }
}
