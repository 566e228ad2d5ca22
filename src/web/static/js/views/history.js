// A pipeline's execution history, filtered by status and trigger, with the commit each one built,
// who started it and the audit trend; kept current by the program's event stream.
import { embedded, get, linkOf, paths, rel } from '../api.js';
import { auditSeries, trendChart } from '../audit.js';
import { badge, duration, formatTime, h } from '../dom.js';
import { followProgram, liveIndicator } from '../program-live.js';
import { redeployButton } from '../redeploy.js';
import { setTitle } from '../ui.js';

const STATUSES = ['', 'RUNNING', 'FINISHED', 'FAILED', 'ERROR', 'CANCELLED'];
const TRIGGERS = ['', 'MANUAL', 'ON_COMMIT', 'RE_EXECUTE', 'PUSH_UPGRADES'];

function select(id, label, values, value) {
  const el = h('select', { id, name: id }, values.map((v) => h('option', { value: v, selected: v === value }, v || 'any')));
  return [h('label', { for: id, text: label }), el];
}

/** The commit an execution built (its source steps carry it), short. */
function commitOf(execution) {
  const step = embedded(execution, 'stepStates').find((s) => s.commitId);
  return step ? h('code', { title: step.commitId, text: step.commitId.slice(0, 10) }) : h('span.muted', { text: '—' });
}

/** Marked when a person overrode a gate in it. */
function overridden(execution) {
  return embedded(execution, 'stepStates').some((s) => s.gate && Array.isArray(s.details?.input?.metrics));
}

/** One execution's row: a cell per column, the last one its action ("Redeploy this release"). */
function executionRow(pipeline, e, showProblem) {
  const { programId, id: pipelineId } = pipeline;
  return h('tr', { 'data-execution': e.id },
    h('th', { scope: 'row' }, h('a', { href: `#/program/${programId}/pipeline/${pipelineId}/execution/${e.id}` }, `Execution ${e.id}`)),
    h('td', { 'data-label': 'Status' }, badge(e.status), overridden(e) ? h('span.badge.badge-wait', { text: 'overridden' }) : null),
    h('td', { 'data-label': 'Trigger', text: e.trigger }),
    h('td', { 'data-label': 'Started by', text: e.user || 'automatic' }),
    h('td', { 'data-label': 'Started', text: formatTime(e.createdAt) }),
    h('td', { 'data-label': 'Duration', text: duration(e.createdAt, e.finishedAt) }),
    h('td', { 'data-label': 'Commit' }, commitOf(e)),
    h('td', { 'data-label': 'Artifacts', text: e.artifactsVersion ?? '' }),
    h('td', { 'data-label': 'Actions' }, redeployButton(e, pipeline, showProblem)));
}

export async function renderHistory(main, [programId, pipelineId]) {
  const pipeline = await get(paths.pipeline(programId, pipelineId));
  setTitle(`History · ${pipeline.name}`);
  const base = linkOf(pipeline, rel.executions) ?? `${paths.pipeline(programId, pipelineId)}/executions`;
  const load = async () => embedded(await get(`${base.split('?')[0]}?start=0&limit=100`), 'executions');
  let executions = await load();
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const [statusLabel, status] = select('status', 'Status', STATUSES, params.get('status') ?? '');
  const [triggerLabel, trigger] = select('trigger', 'Trigger', TRIGGERS, params.get('trigger') ?? '');
  const tbody = h('tbody', { id: 'executions' });
  const count = h('p.muted', { 'aria-live': 'polite' });
  const problem = h('div', { 'aria-live': 'polite' });
  const trend = h('div');
  const indicator = liveIndicator();
  const branch = pipeline.phases?.find((p) => p.type === 'BUILD')?.branch;
  const draw = () => {
    const rows = executions.filter((e) => (!status.value || e.status === status.value) && (!trigger.value || e.trigger === trigger.value));
    count.textContent = `${rows.length} of ${executions.length} executions`;
    tbody.replaceChildren(...rows.map((e) => executionRow(pipeline, e, (box) => problem.replaceChildren(box))));
    trend.replaceChildren(trendChart(auditSeries(executions)));
  };
  status.addEventListener('change', draw);
  trigger.addEventListener('change', draw);
  main.append(
    h('p.crumbs', {}, h('a', { href: `#/program/${programId}` }, 'Pipelines')),
    h('div.title-row', {}, h('h1', { text: `${pipeline.name}: execution history` }), indicator),
    branch ? h('p.muted', { text: `Branch ${branch}` }) : null,
    h('form.filters', { role: 'search', 'aria-label': 'Filter executions', onSubmit: (e) => e.preventDefault() },
      h('span.inline-field', {}, statusLabel, status), h('span.inline-field', {}, triggerLabel, trigger)),
    count, problem,
    h('table.data.responsive', {},
      h('caption.sr-only', { text: 'Executions' }),
      h('thead', {}, h('tr', {}, ['Execution', 'Status', 'Trigger', 'Started by', 'Started', 'Duration', 'Commit', 'Artifacts', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
      tbody),
    h('h2', { text: 'Experience audit trend' }),
    trend);
  draw();
  // Kept current: an event patches its execution's status at once; a new or ended execution,
  // or an ended step (the commit, the audit), is read again, alone.
  let shown = '';
  const redraw = () => {
    const key = JSON.stringify(executions.map((e) => [e.id, e.status, e.finishedAt, embedded(e, 'stepStates').map((s) => s.status)]));
    if (key !== shown) draw();
    shown = key;
  };
  const reread = new Map();
  const readOne = (id) => {
    clearTimeout(reread.get(id));
    reread.set(id, setTimeout(async () => {
      reread.delete(id);
      try {
        const fresh = await get(paths.execution(programId, pipelineId, id));
        const i = executions.findIndex((e) => e.id === id);
        if (i >= 0) executions[i] = fresh;
        else executions = [fresh, ...executions].sort((a, b) => Number(b.id) - Number(a.id));
        problem.replaceChildren();
        redraw();
      } catch { /* the next event or the resync after a reconnect reads it */ }
    }, 150));
  };
  const onEvent = (type, data) => {
    const ex = data?.execution;
    if (!ex || ex.pipelineId !== pipelineId) return true;
    const known = executions.find((e) => e.id === ex.id);
    if (known) {
      Object.assign(known, { status: ex.status, ...(ex.finishedAt ? { finishedAt: ex.finishedAt } : {}) });
      redraw();
    }
    if (!known || type.startsWith('execution.') || type === 'step.ended') readOne(ex.id);
    return true;
  };
  const resync = async () => { executions = await load(); redraw(); };
  const stop = followProgram(programId, { onEvent, resync, problem, indicator });
  return () => { stop(); for (const t of reread.values()) clearTimeout(t); };
}
