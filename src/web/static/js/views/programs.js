// Programs overview, and a program's pipelines with their state (kept current by the program's
// event stream), what a waiting pipeline waits for, a link to the running execution, and
// Deploy / New pipeline for those who may.
import { ApiError, embedded, get, linkOf, paths, rel, request } from '../api.js';
import { badge, formatTime, h } from '../dom.js';
import { mayOperate, isAdmin } from '../session.js';
import { liveIndicator, followProgram } from '../program-live.js';
import { stepLabel, waitingFor } from '../steps.js';
import { emptyState, errorBox, navigate, setTitle, toast } from '../ui.js';

export async function renderPrograms(main) {
  const list = embedded(await get('/api/programs'), 'programs');
  setTitle('Programs');
  main.append(h('h1', { text: 'Programs' }));
  if (list.length === 0) {
    main.append(emptyState(isAdmin() ? 'No programs yet. Start Slipway with `npm start` to seed the demo program.'
      : 'You are not a member of any program yet. Ask an administrator for a role.'));
    return;
  }
  main.append(h('ul.cards', {}, list.map((p) => h('li.card', {},
    h('h2', {}, h('a', { href: `#/program/${p.id}` }, p.name)),
    h('p.muted', { text: `Program ${p.id}${p.enabled === false ? ' · disabled' : ''}` }),
    h('p', {}, h('a', { href: `#/program/${p.id}/environments` }, `Environments of ${p.name}`))))));
}

const PIPELINE_TYPES = { fullStack: 'Full stack', codeQuality: 'Code quality', devDeploy: 'Development deployment', webTier: 'Web tier' };

/** Slipway's own pipeline type (slipwayType) when the API gives it, else Cloud Manager's type. */
export function pipelineTypeText(pipeline) {
  if (pipeline.slipwayType) return PIPELINE_TYPES[pipeline.slipwayType] ?? pipeline.slipwayType;
  return pipeline.type ?? '';
}

export const PIPELINE_TYPE_NAMES = PIPELINE_TYPES;

function executionRoute(programId, pipelineId, executionId) {
  return `/program/${programId}/pipeline/${pipelineId}/execution/${executionId}`;
}

async function deploy(pipeline, button, status) {
  button.disabled = true;
  status.replaceChildren();
  try {
    const href = linkOf(pipeline, rel.execution) ?? `${paths.pipeline(pipeline.programId, pipeline.id)}/execution`;
    const { body } = await request('PUT', href);
    toast(`Execution ${body.id} started`);
    navigate(executionRoute(pipeline.programId, pipeline.id, body.id));
  } catch (error) {
    button.disabled = false;
    status.append(errorBox(error));
  }
}

/** The running execution of a busy pipeline, if any: its id and the step that waits. */
async function currentExecution(pipeline) {
  const href = linkOf(pipeline, rel.execution);
  if (!href) return undefined;
  try {
    const execution = await get(href);
    return { id: execution.id, trigger: execution.trigger, waiting: embedded(execution, 'stepStates').find((s) => s.status === 'WAITING') };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

function pipelineRow(programId, pl, running, operate) {
  const status = h('div.row-status');
  const busy = pl.status === 'BUSY' || pl.status === 'WAITING';
  const waiting = busy ? running?.waiting : undefined;
  const actions = [];
  if (operate) {
    const button = h('button.primary', { type: 'button', 'aria-label': `Deploy ${pl.name}`, disabled: busy }, 'Deploy');
    button.addEventListener('click', () => deploy(pl, button, status));
    actions.push(button, h('a', { href: `#/program/${programId}/pipeline/${pl.id}/edit`, 'aria-label': `Edit ${pl.name}` }, 'Edit'));
  }
  actions.push(h('a', { href: `#/program/${programId}/pipeline/${pl.id}/history`, 'aria-label': `History of ${pl.name}` }, 'History'),
    h('a', { href: `#/program/${programId}/pipeline/${pl.id}/variables`, 'aria-label': `Variables of ${pl.name}` }, 'Variables'));
  const executionHref = busy && running ? `#${executionRoute(programId, pl.id, running.id)}` : undefined;
  return h('tr', { 'data-pipeline': pl.id, 'data-status': pl.status ?? 'IDLE' },
    h('th', { scope: 'row' }, pl.name, h('div.muted', { text: [pipelineTypeText(pl), pl.trigger, `id ${pl.id}`].filter(Boolean).join(' · ') })),
    h('td', { 'data-label': 'Status' }, executionHref
      ? h('a.status-link', { href: executionHref, 'aria-label': `${pl.status}: open execution ${running.id} of ${pl.name}` }, badge(pl.status))
      : badge(pl.status ?? 'IDLE'),
    waiting ? h('div.small', { text: `${stepLabel(waiting, running.trigger)}: waiting for ${waitingFor(waiting, formatTime)}` }) : null),
    h('td', { 'data-label': 'Last started', text: formatTime(pl.lastStartedAt) || '—' }),
    h('td', { 'data-label': 'Current execution' }, executionHref
      ? h('a', { href: executionHref }, `Execution ${running.id}`)
      : h('span.muted', { text: 'none running' })),
    h('td.actions', { 'data-label': 'Actions' }, h('div.action-list', {}, actions), status));
}

export async function renderProgram(main, [programId]) {
  const program = await get(paths.program(programId));
  const href = linkOf(program, rel.pipelines) ?? `${paths.program(programId)}/pipelines`;
  const operate = mayOperate(programId);
  setTitle(`Pipelines · ${program.name}`);
  const newButton = operate ? h('a.button.primary', { href: `#/program/${programId}/pipelines/new` }, 'New pipeline') : null;
  const indicator = liveIndicator();
  main.append(h('div.title-row', {}, h('h1', { text: `${program.name}: pipelines` }), indicator, newButton));
  const body = h('div');
  const problem = h('div', { 'aria-live': 'polite' });
  main.append(problem, body);
  let pipelines = [];
  /** Pipeline id → its running execution ({ id, trigger, waiting }). */
  const running = new Map();
  let shown = '';
  const draw = () => {
    // Redrawn only when something changed, so focus and an open error stay put.
    const key = JSON.stringify(pipelines.map((p) => [p.id, p.name, p.status, p.lastStartedAt, running.get(p.id)]));
    if (key === shown) return;
    shown = key;
    if (pipelines.length === 0) {
      body.replaceChildren(emptyState('This program has no pipelines yet.',
        operate ? { text: 'Create the first pipeline', href: `#/program/${programId}/pipelines/new` } : undefined));
      return;
    }
    body.replaceChildren(h('table.data.responsive', {},
      h('caption.sr-only', { text: 'Pipelines' }),
      h('thead', {}, h('tr', {}, ['Pipeline', 'Status', 'Last started', 'Current execution', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, pipelines.map((pl) => pipelineRow(programId, pl, running.get(pl.id), operate)))));
  };
  const resync = async () => {
    const fresh = embedded(await get(href), 'pipelines');
    const current = await Promise.all(fresh.map((pl) => (pl.status === 'BUSY' || pl.status === 'WAITING'
      ? currentExecution(pl).catch(() => undefined) : undefined)));
    pipelines = fresh;
    running.clear();
    fresh.forEach((pl, i) => { if (current[i]) running.set(pl.id, current[i]); });
    draw();
  };
  /** An event carries the pipeline's status and current execution: the row changes in place. */
  const onEvent = (type, data) => {
    if (!data?.pipeline) return true; // environments are not shown here
    const pl = pipelines.find((p) => p.id === data.pipeline.id);
    if (!pl) return false; // a pipeline this page has not seen yet
    pl.status = data.pipeline.status;
    if (data.pipeline.lastStartedAt) pl.lastStartedAt = data.pipeline.lastStartedAt;
    const step = data.execution?.currentStep;
    if (data.pipeline.currentExecutionId) {
      running.set(pl.id, { id: data.pipeline.currentExecutionId, trigger: data.execution?.trigger, waiting: step?.status === 'WAITING' ? step : undefined });
    } else running.delete(pl.id);
    draw();
    return true;
  };
  await resync();
  return followProgram(programId, { onEvent, resync, problem, indicator });
}
