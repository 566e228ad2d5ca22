// contentAudit with real Lighthouse and Chromium against real processes (1 run per page to keep
// the time down): four categories, unreachable paths named, and a second audit of a heavier
// version of the page reported as worse performance than the first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { contentAudit } from '../../src/steps/content-audit.ts';
import { startNodeServer, staticView, type RunningApp } from '../support/static-topology.ts';
import type { TestStepContext } from '../support/step-context.ts';
import type { AuditSummary } from '../../src/domain/audit-compare.ts';
import { stageContext } from './stage-context.ts';

const AUDIT_SITE = fileURLToPath(new URL('./audit-site.mjs', import.meta.url));

let light: RunningApp;
let heavy: RunningApp;
const contexts: TestStepContext[] = [];

beforeAll(async () => {
  [light, heavy] = await Promise.all([startNodeServer(AUDIT_SITE, {}), startNodeServer(AUDIT_SITE, { HEAVY: '1' })]);
});

afterAll(async () => {
  await Promise.all([light?.stop(), heavy?.stop()]);
  for (const ctx of contexts) ctx.cleanup();
});

describe('contentAudit', () => {
  let first: Record<string, unknown> | undefined;

  it('scores the four categories, names unreachable paths and never blocks', async () => {
    const ctx = await stageContext({
      action: 'contentAudit', view: staticView(light.url, light.url),
      options: { auditPaths: ['/', '/missing.html', '/moved'], auditRuns: 1 },
    });
    contexts.push(ctx);
    const result = await contentAudit.run(ctx);
    expect(result.outcome, ctx.log.text()).toBe('finished');
    if (result.outcome !== 'finished') return;
    expect(result.metrics?.map((m) => m.kpi)).toEqual(['performance', 'accessibility', 'best-practices', 'seo']);
    for (const m of result.metrics ?? []) {
      expect(m).toMatchObject({ severity: 'informational', expectedValue: '80', comparator: 'GTE', override: false });
      expect(Number(m.actualValue)).toBeGreaterThanOrEqual(0);
    }
    const audit = result.details?.['audit'] as AuditSummary;
    expect(audit.unreachable).toEqual([
      { path: '/missing.html', reason: '404' },
      { path: '/moved', reason: 'redirect (302) to /login' },
    ]);
    expect(audit.changes.performance).toBe('N/A');
    expect(ctx.recorded.map((a) => a.type)).toEqual(['CONTENT_AUDIT_REPORT', 'CONTENT_AUDIT_RESULTS']);
    const lhr = JSON.parse((await ctx.artifacts.read(ctx.recorded[0]?.digest ?? '')).toString()) as { lighthouseVersion: string; fullPageScreenshot?: unknown };
    expect(lhr.lighthouseVersion).toBe('12.2.3');
    // Not taken: no score reads it, and it cost a second of every run.
    expect(lhr.fullPageScreenshot).toBeUndefined();
    first = result.details;
  }, 90_000);

  it('reports worse performance when the page got heavier since the previous audit', async () => {
    expect(first).toBeDefined();
    const ctx = await stageContext({
      action: 'contentAudit', view: staticView(heavy.url, heavy.url),
      options: { auditPaths: ['/'], auditRuns: 1 }, previous: first,
    });
    contexts.push(ctx);
    const result = await contentAudit.run(ctx);
    expect(result.outcome).toBe('finished');
    const audit = (result.outcome === 'finished' ? result.details?.['audit'] : undefined) as AuditSummary;
    const before = (first?.['audit'] as AuditSummary).categories.performance ?? 0;
    expect(audit.categories.performance, `before ${before}, after ${audit.categories.performance}`).toBeLessThan(before);
    expect(audit.changes.performance).toBe('worse');
    expect(audit.pageChanges['/']?.performance).toBe('worse');
  }, 90_000);
});
