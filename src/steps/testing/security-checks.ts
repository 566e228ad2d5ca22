// Security checks of stage as a visitor sees it (through the load balancer), plus the author
// endpoints for default credentials. Each check becomes one Cloud Manager metric whose
// actualValue is a count of findings and expectedValue "0", so the metric reads the same way
// to the quality gate (compareValues) as to a person. Findings are kept for the log/details.
import type { Metric, Severity } from '../../domain/model.ts';
import type { TopologyView } from '../../topology/driver.ts';
import { probe, urlOf, type ProbeResult } from './http-probe.ts';

export interface SecurityFinding {
  kpi: string;
  url: string;
  detail: string;
}

export interface SecurityReport {
  metrics: Metric[];
  findings: SecurityFinding[];
  /** Checks not applicable here (HSTS over plain http). */
  skipped: string[];
}

export const ADMIN_PATHS = [
  '/admin', '/author', '/system/console', '/crx/de', '/crx/de/index.jsp', '/.git/config', '/.env',
  '/server-status', '/libs/granite/core/content/login.html', '/bin/querybuilder.json',
];
export const LISTING_PATHS = ['/assets/', '/public/', '/static/', '/uploads/', '/etc/'];
const AUTHOR_LOGIN_PATHS = ['/', '/author', '/author/pages', '/admin', '/system/console'];
const DEFAULT_CREDENTIALS = ['admin:admin', 'admin:password', 'author:author'];

const LISTING = /<title>\s*Index of\b|Directory listing for|<h1>\s*Index of\b|\[To Parent Directory\]/i;
/** Stack traces of the usual server runtimes (Node, Java, Python, PHP, .NET). */
const STACK_TRACE = /\n\s+at [\w$.<>]+ \(?[^\n]*:\d+:\d+\)?|java\.lang\.\w+(Exception|Error)|\bat [\w.$]+\([\w]+\.java:\d+\)|Traceback \(most recent call last\)|Stack trace:|\.php on line \d+|System\.\w+Exception/;

export function hasDirectoryListing(body: string): boolean {
  return LISTING.test(body);
}

export function hasStackTrace(body: string): boolean {
  return STACK_TRACE.test(body);
}

/** Which required security headers a response lacks (frame protection: XFO or CSP frame-ancestors). */
export function missingSecurityHeaders(headers: Headers): string[] {
  const missing: string[] = [];
  if (headers.get('x-content-type-options')?.toLowerCase().trim() !== 'nosniff') missing.push('x_content_type_options');
  const csp = headers.get('content-security-policy') ?? '';
  if (!csp) missing.push('content_security_policy');
  if (!headers.get('x-frame-options') && !/frame-ancestors/i.test(csp)) missing.push('frame_options');
  if (!headers.get('referrer-policy')) missing.push('referrer_policy');
  return missing;
}

export const HEADER_KPIS = ['x_content_type_options', 'content_security_policy', 'frame_options', 'referrer_policy'] as const;

function metric(kpi: string, severity: Severity, findings: number): Metric {
  return { kpi, severity, passed: findings === 0, override: false, actualValue: String(findings), expectedValue: '0', comparator: 'EQ' };
}

export interface SecurityPlan {
  pages: string[];
  signal: AbortSignal;
}

async function headerChecks(lb: string, plan: SecurityPlan, findings: SecurityFinding[]): Promise<Metric[]> {
  const counts = new Map<string, number>(HEADER_KPIS.map((k) => [k, 0]));
  for (const path of plan.pages) {
    const url = urlOf(lb, path);
    const r = await probe(url, { signal: plan.signal, maxBody: 0 });
    if (r.status === 0) { findings.push({ kpi: 'security_headers', url, detail: `no answer (${r.error})` }); continue; }
    for (const kpi of missingSecurityHeaders(r.headers)) {
      counts.set(kpi, (counts.get(kpi) ?? 0) + 1);
      findings.push({ kpi: `header_${kpi}`, url, detail: `missing or wrong ${kpi.replace(/_/g, '-')} header` });
    }
  }
  return HEADER_KPIS.map((kpi) => metric(`header_${kpi}`, 'important', counts.get(kpi) ?? 0));
}

async function countFindings(kpi: string, urls: string[], test: (r: ProbeResult) => string | undefined, plan: SecurityPlan, findings: SecurityFinding[], headers?: Record<string, string>): Promise<number> {
  const results = await Promise.all(urls.map(async (url) => ({ url, r: await probe(url, { signal: plan.signal, ...(headers ? { headers } : {}) }) })));
  let count = 0;
  for (const { url, r } of results) {
    const detail = test(r);
    if (detail) { count++; findings.push({ kpi, url, detail }); }
  }
  return count;
}

/** A login counts as accepted when the credentials turn a refusal (401/403) into a success. */
async function defaultCredentialFindings(author: string, plan: SecurityPlan, findings: SecurityFinding[]): Promise<number> {
  let count = 0;
  for (const path of AUTHOR_LOGIN_PATHS) {
    const url = urlOf(author, path);
    const anonymous = await probe(url, { signal: plan.signal, maxBody: 0 });
    if (anonymous.status !== 401 && anonymous.status !== 403) continue;
    for (const pair of DEFAULT_CREDENTIALS) {
      const r = await probe(url, { signal: plan.signal, maxBody: 0, headers: { authorization: `Basic ${Buffer.from(pair).toString('base64')}` } });
      if (r.ok) { count++; findings.push({ kpi: 'default_login_accounts', url, detail: `accepts ${pair.split(':')[0]} with a default password` }); }
    }
  }
  return count;
}

export async function runSecurityChecks(view: TopologyView, plan: SecurityPlan): Promise<SecurityReport> {
  const lb = view.loadBalancer.url;
  const findings: SecurityFinding[] = [];
  const skipped = lb.startsWith('https:') ? [] : ['header_strict_transport_security (the stage load balancer speaks plain http)'];
  const metrics = await headerChecks(lb, plan, findings);
  if (lb.startsWith('https:')) {
    const r = await probe(urlOf(lb, plan.pages[0] ?? '/'), { signal: plan.signal, maxBody: 0 });
    metrics.push(metric('header_strict_transport_security', 'important', r.headers.has('strict-transport-security') ? 0 : 1));
  }
  const exposed = await countFindings('exposed_admin_paths', ADMIN_PATHS.map((p) => urlOf(lb, p)),
    (r) => (r.status === 200 ? 'answers 200 to the public' : undefined), plan, findings);
  metrics.push(metric('exposed_admin_paths', 'important', exposed));
  metrics.push(metric('default_login_accounts', 'critical', await defaultCredentialFindings(view.author.url, plan, findings)));
  const listings = await countFindings('directory_listing', LISTING_PATHS.map((p) => urlOf(lb, p)),
    (r) => (r.ok && hasDirectoryListing(r.body) ? 'lists a directory' : undefined), plan, findings);
  metrics.push(metric('directory_listing', 'important', listings));
  // A missing page, a malformed escape and an over-long path: each must fail without a trace.
  const errorUrls = [`/slipway-missing-${Date.now()}`, '/%E0%A4%A', `/${'a'.repeat(5000)}`, '/?__proto__[x]=1&%00=%'].map((p) => `${lb.replace(/\/+$/, '')}${p}`);
  const traces = await countFindings('verbose_error_pages', errorUrls,
    (r) => (hasStackTrace(r.body) ? `HTTP ${r.status} shows a stack trace` : undefined), plan, findings);
  metrics.push(metric('verbose_error_pages', 'important', traces));
  return { metrics, findings, skipped };
}
