// A pipeline's execution history, filtered by status and trigger, with the audit trend.
import { embedded, get, linkOf, paths, rel } from '../api.js';
import { auditSeries, trendChart } from '../audit.js';
import { badge, duration, formatTime, h } from '../dom.js';

const STATUSES = ['', 'RUNNING', 'FINISHED', 'FAILED', 'ERROR', 'CANCELLED'];
const TRIGGERS = ['', 'MANUAL', 'ON_COMMIT', 'RE_EXECUTE', 'PUSH_UPGRADES'];

function select(id, label, values, value) {
  const el = h('select', { id, name: id }, values.map((v) => h('option', { value: v, selected: v === value }, v || 'any')));
  return [h('label', { for: id, text: label }), el];
}

export async function renderHistory(main, [programId, pipelineId]) {
  const pipeline = await get(paths.pipeline(programId, pipelineId));
  const base = linkOf(pipeline, rel.executions) ?? `${paths.pipeline(programId, pipelineId)}/executions`;
  const executions = embedded(await get(`${base.split('?')[0]}?start=0&limit=100`), 'executions');
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const [statusLabel, status] = select('status', 'Status', STATUSES, params.get('status') ?? '');
  const [triggerLabel, trigger] = select('trigger', 'Trigger', TRIGGERS, params.get('trigger') ?? '');
  const tbody = h('tbody', { id: 'executions' });
  const count = h('p.muted', { 'aria-live': 'polite' });
  const draw = () => {
    const rows = executions.filter((e) => (!status.value || e.status === status.value) && (!trigger.value || e.trigger === trigger.value));
    count.textContent = `${rows.length} of ${executions.length} executions`;
    tbody.replaceChildren(...rows.map((e) => h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: `#/program/${programId}/pipeline/${pipelineId}/execution/${e.id}` }, `Execution ${e.id}`)),
      h('td', {}, badge(e.status)),
      h('td', { text: e.trigger }),
      h('td', { text: e.user || 'automatic' }),
      h('td', { text: formatTime(e.createdAt) }),
      h('td', { text: duration(e.createdAt, e.finishedAt) }),
      h('td', { text: e.artifactsVersion ?? '' }))));
  };
  status.addEventListener('change', draw);
  trigger.addEventListener('change', draw);
  main.append(
    h('p.crumbs', {}, h('a', { href: `#/program/${programId}` }, 'Pipelines')),
    h('h1', { text: `${pipeline.name}: execution history` }),
    h('form.filters', { role: 'search', 'aria-label': 'Filter executions', onSubmit: (e) => e.preventDefault() },
      h('span.inline-field', {}, statusLabel, status), h('span.inline-field', {}, triggerLabel, trigger)),
    count,
    h('table.data', {},
      h('caption.sr-only', { text: 'Executions' }),
      h('thead', {}, h('tr', {}, ['Execution', 'Status', 'Trigger', 'Started by', 'Started', 'Duration', 'Artifacts'].map((t) => h('th', { scope: 'col', text: t })))),
      tbody),
    h('h2', { text: 'Experience audit trend' }),
    trendChart(auditSeries(executions)));
  draw();
}
