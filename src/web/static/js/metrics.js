// Metrics of a gate as a table, with Cloud Manager's readable metric names.
import { h } from './dom.js';

const COMPARATORS = { GT: '>', GTE: '≥', LT: '<', LTE: '≤', EQ: '=', NEQ: '≠' };

/** Cloud Manager's names for the code-scanning, security and load-test metrics. */
const NAMES = {
  security_rating: 'Security Rating', reliability_rating: 'Reliability Rating', sqale_rating: 'Maintainability Rating',
  coverage: 'Coverage', skipped_tests: 'Skipped Unit Tests', open_issues: 'Open Issues',
  duplicated_lines_density: 'Duplicated Lines', performance: 'Performance', accessibility: 'Accessibility',
  'best-practices': 'Best Practices', seo: 'SEO',
};

export const metricName = (kpi) => NAMES[kpi] ?? String(kpi).replaceAll('_', ' ');
const UNITS = { coverage: ' %', duplicated_lines_density: ' %' };
const valueOf = (m, v) => `${v}${UNITS[m.kpi] ?? ''}`;

/** "Coverage 39.5 % < 50 %": a failing metric in one line. */
export function metricLine(m) {
  return `${metricName(m.kpi)} ${valueOf(m, m.actualValue)}, expected ${COMPARATORS[m.comparator] ?? m.comparator} ${valueOf(m, m.expectedValue)}`;
}

export function metricsTable(metrics, caption = 'Metrics') {
  if (metrics.length === 0) return h('p.muted', { text: 'No metrics.' });
  return h('table.data.compact.metrics', {},
    h('caption.sr-only', { text: caption }),
    h('thead', {}, h('tr', {}, ['Metric', 'Severity', 'Actual', 'Expected', 'Result'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, metrics.map((m) => h('tr', {},
      h('th', { scope: 'row', 'data-label': 'Metric', text: metricName(m.kpi) }),
      h('td', { 'data-label': 'Severity', text: m.severity }),
      h('td', { 'data-label': 'Actual', text: valueOf(m, m.actualValue) }),
      h('td', { 'data-label': 'Expected', text: `${COMPARATORS[m.comparator] ?? m.comparator} ${valueOf(m, m.expectedValue)}` }),
      h('td', { 'data-label': 'Result' }, m.passed ? h('span.badge.badge-ok', { text: 'passed' })
        : m.override ? h('span.badge.badge-wait', { text: 'overridden' }) : h('span.badge.badge-bad', { text: 'failed' }))))));
}
