// Experience audit arithmetic (Cloud Manager §10.2): the median score per page over runs, the
// median over pages per category, the slowest pages, and the change against the previous
// audit of the same pipeline. Pure: no I/O.

export const AUDIT_CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'] as const;
export type AuditCategory = (typeof AUDIT_CATEGORIES)[number];

/** Scores 0–100 (integers) per category; a category Lighthouse could not score is absent. */
export type CategoryScores = Partial<Record<AuditCategory, number>>;

/** Cloud Manager's words for the change against the previous run. */
export type AuditChange = 'better' | 'worse' | 'no change' | 'N/A';

export interface PageAudit {
  path: string;
  scores: CategoryScores;
  /** Median Lighthouse run time of the page, in milliseconds. */
  timeMs: number;
}

export interface UnreachablePath {
  path: string;
  /** Why it was skipped: "404", "redirect to /login", "connection refused"... */
  reason: string;
}

export interface AuditSummary {
  categories: CategoryScores;
  pages: PageAudit[];
  /** Up to five pages with the lowest performance score (CM's "slowest pages"). */
  slowest: { path: string; performance: number | null; timeMs: number }[];
  changes: Record<AuditCategory, AuditChange>;
  pageChanges: Record<string, Record<AuditCategory, AuditChange>>;
  unreachable: UnreachablePath[];
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] as number) + upper) / 2;
}

/** Lighthouse reports category scores as 0..1 (or null when it could not score them). */
export function toPercent(score: number | null | undefined): number | undefined {
  return typeof score === 'number' && Number.isFinite(score) ? Math.round(score * 100) : undefined;
}

/** The median per category of several scorings (runs of a page, or pages of an audit). */
export function medianScores(runs: readonly CategoryScores[]): CategoryScores {
  const result: CategoryScores = {};
  for (const category of AUDIT_CATEGORIES) {
    const values = runs.map((r) => r[category]).filter((v): v is number => v !== undefined);
    const m = median(values);
    if (m !== undefined) result[category] = Math.round(m);
  }
  return result;
}

/**
 * Lighthouse scores wobble by a point or two between identical runs, so differences within
 * `tolerance` count as "no change" rather than a trend.
 */
export function compareScore(current: number | undefined, previous: number | undefined, tolerance = 2): AuditChange {
  if (current === undefined || previous === undefined) return 'N/A';
  if (current - previous > tolerance) return 'better';
  if (previous - current > tolerance) return 'worse';
  return 'no change';
}

export function compareCategories(current: CategoryScores, previous: CategoryScores | undefined, tolerance = 2): Record<AuditCategory, AuditChange> {
  const out = {} as Record<AuditCategory, AuditChange>;
  for (const category of AUDIT_CATEGORIES) out[category] = compareScore(current[category], previous?.[category], tolerance);
  return out;
}

export function slowestPages(pages: readonly PageAudit[], limit = 5): AuditSummary['slowest'] {
  return [...pages]
    .sort((a, b) => (a.scores.performance ?? -1) - (b.scores.performance ?? -1) || b.timeMs - a.timeMs)
    .slice(0, limit)
    .map((p) => ({ path: p.path, performance: p.scores.performance ?? null, timeMs: p.timeMs }));
}

/** Reads the `audit` summary that an earlier contentAudit step stored in its details. */
export function previousAudit(details: Record<string, unknown> | undefined): Pick<AuditSummary, 'categories' | 'pages'> | undefined {
  const audit = details?.['audit'];
  if (typeof audit !== 'object' || audit === null) return undefined;
  const { categories, pages } = audit as Partial<AuditSummary>;
  if (typeof categories !== 'object' || categories === null) return undefined;
  return { categories, pages: Array.isArray(pages) ? pages : [] };
}

/** Builds the whole summary from per-page results and the previous audit (if any). */
export function summarizeAudit(
  pages: readonly PageAudit[],
  unreachable: readonly UnreachablePath[],
  previous: Pick<AuditSummary, 'categories' | 'pages'> | undefined,
  tolerance = 2,
): AuditSummary {
  const categories = medianScores(pages.map((p) => p.scores));
  const previousByPath = new Map((previous?.pages ?? []).map((p) => [p.path, p.scores]));
  const pageChanges: AuditSummary['pageChanges'] = {};
  for (const page of pages) pageChanges[page.path] = compareCategories(page.scores, previousByPath.get(page.path), tolerance);
  return {
    categories,
    pages: [...pages],
    slowest: slowestPages(pages),
    changes: compareCategories(categories, previous?.categories, tolerance),
    pageChanges,
    unreachable: [...unreachable],
  };
}
