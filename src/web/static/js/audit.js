// Experience audit: scores with the change against the previous run, pages, slowest pages, and
// a trend chart over executions (inline SVG, no library).
import { embedded } from './api.js';
import { h, svg } from './dom.js';

export const CATEGORIES = [
  ['performance', 'Performance'], ['accessibility', 'Accessibility'], ['best-practices', 'Best practices'], ['seo', 'SEO'],
];
const CHANGE_TEXT = { better: '▲ better', worse: '▼ worse', 'no change': 'no change', 'N/A': 'no previous run' };
const COLORS = { performance: '#0b4fa8', accessibility: '#0a6b2f', 'best-practices': '#7a3fb0', seo: '#a35200' };
// Lines that overlap (equal scores) stay apart: each category has its own dash, marker and offset.
const DASHES = { performance: '', accessibility: '6 3', 'best-practices': '2 3', seo: '10 3 2 3' };
const OFFSETS = { performance: -1.5, accessibility: -0.5, 'best-practices': 0.5, seo: 1.5 };

const scoreClass = (v) => (v === undefined ? 'idle' : v >= 90 ? 'ok' : v >= 50 ? 'wait' : 'bad');

export function auditPanel(audit) {
  const categories = audit.categories ?? {};
  const changes = audit.changes ?? {};
  const scores = h('ul.scores', {}, CATEGORIES.map(([key, label]) => h('li.score', {},
    h(`span.score-value.badge-${scoreClass(categories[key])}`, { text: categories[key] ?? '–' }),
    h('span.score-label', { text: label }),
    h(`span.change.change-${String(changes[key] ?? 'N/A').replace(/\W+/g, '-')}`, { text: CHANGE_TEXT[changes[key]] ?? '' }))));
  const pages = Array.isArray(audit.pages) ? audit.pages : [];
  // timeMs is how long one Lighthouse run of the page took (the median of the runs), not the page's load time.
  const pageTable = pages.length ? h('div.table-scroll', {}, h('table.data.compact', {},
    h('caption', { text: 'Pages (audit run time: how long one Lighthouse run of the page took, median of the runs)' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Page' }), CATEGORIES.map(([, l]) => h('th', { scope: 'col', text: l })), h('th', { scope: 'col', text: 'Audit run time' }))),
    h('tbody', {}, pages.map((p) => h('tr', {},
      h('th', { scope: 'row', text: p.path }),
      CATEGORIES.map(([k]) => {
        const change = audit.pageChanges?.[p.path]?.[k];
        return h('td', { text: `${p.scores?.[k] ?? '–'}${change === 'better' ? ' ▲' : change === 'worse' ? ' ▼' : ''}` });
      }),
      h('td', { text: `${Math.round(p.timeMs ?? 0)} ms` })))))) : null;
  const slowest = Array.isArray(audit.slowest) && audit.slowest.length ? h('div', {},
    h('h3', { text: 'Slowest pages' }),
    h('ol.slowest', {}, audit.slowest.map((s) => h('li', { text: `${s.path} — performance ${s.performance ?? 'n/a'}, audited in ${Math.round(s.timeMs ?? 0)} ms` })))) : null;
  const unreachable = Array.isArray(audit.unreachable) && audit.unreachable.length
    ? h('p.muted', { text: `Not audited: ${audit.unreachable.map((u) => `${u.path} (${u.reason})`).join(', ')}` }) : null;
  return h('div.audit', {}, h('h3', { text: 'Scores, and the change against the previous run' }), scores, pageTable, slowest, unreachable,
    audit.error ? h('p.muted', { text: `Audit note: ${audit.error}` }) : null);
}

/** The audit summaries of a list of executions (oldest first), from their contentAudit steps. */
export function auditSeries(executions) {
  const points = [];
  for (const e of [...executions].reverse()) {
    const step = embedded(e, 'stepStates').find((s) => s.action === 'contentAudit');
    const categories = step?.details?.audit?.categories;
    if (categories) points.push({ id: e.id, categories });
  }
  return points;
}

/** A line per category over the executions; values 0–100. Text fallback is the table below it. */
export function trendChart(points) {
  if (points.length === 0) return h('p.muted', { text: 'No experience audits yet.' });
  const W = 560; const H = 200; const L = 36; const B = 28; const T = 10; const R = 12;
  const x = (i) => L + (points.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (points.length - 1));
  const y = (v) => T + ((100 - v) * (H - T - B)) / 100;
  const grid = [0, 50, 100].map((v) => [
    svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: '#d5d9e0' }),
    svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#4a5260' }, String(v)),
  ]);
  const labels = points.map((p, i) => svg('text', { x: x(i), y: H - 8, 'text-anchor': 'middle', 'font-size': 11, fill: '#4a5260' }, `#${p.id}`));
  const lines = CATEGORIES.map(([key]) => {
    const pts = points.map((p, i) => [x(i), p.categories[key]]).filter(([, v]) => typeof v === 'number');
    const at = (v) => y(v) + OFFSETS[key];
    return [
      svg('polyline', { points: pts.map(([px, v]) => `${px},${at(v)}`).join(' '), fill: 'none', stroke: COLORS[key], 'stroke-width': 2, 'stroke-dasharray': DASHES[key] || undefined }),
      pts.map(([px, v]) => (key === 'accessibility' || key === 'seo'
        ? svg('rect', { x: px - 3, y: at(v) - 3, width: 6, height: 6, fill: COLORS[key], transform: key === 'seo' ? `rotate(45 ${px} ${at(v)})` : undefined })
        : svg('circle', { cx: px, cy: at(v), r: key === 'performance' ? 3.5 : 2.5, fill: key === 'performance' ? COLORS[key] : 'none', stroke: COLORS[key], 'stroke-width': 1.5 }))),
    ];
  });
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'trend', role: 'img', 'aria-labelledby': 'trend-title' },
    svg('title', { id: 'trend-title' }, `Experience audit scores over ${points.length} executions`), grid, labels, lines);
  const legend = h('ul.legend', {}, CATEGORIES.map(([key, label]) => h('li', {}, h(`span.swatch.swatch-${key}`, { 'aria-hidden': 'true' }), label)));
  const table = h('table.data.compact.table-scroll', {},
    h('caption', { text: 'Scores per execution' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Execution' }), CATEGORIES.map(([, l]) => h('th', { scope: 'col', text: l })))),
    h('tbody', {}, [...points].reverse().map((p) => h('tr', {}, h('th', { scope: 'row', text: p.id }), CATEGORIES.map(([k]) => h('td', { text: p.categories[k] ?? '–' }))))));
  return h('div.trend-box', {}, chart, legend, h('details', {}, h('summary', { text: 'Scores as a table' }), table));
}
