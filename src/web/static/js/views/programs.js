// Programs overview, and a program's pipelines with their state and a Deploy button.
import { ApiError, embedded, get, linkOf, paths, rel, request } from '../api.js';
import { badge, formatTime, h } from '../dom.js';
import { errorBox, navigate, toast } from '../ui.js';

export async function renderPrograms(main) {
  const list = embedded(await get('/api/programs'), 'programs');
  main.append(h('h1', { text: 'Programs' }));
  if (list.length === 0) {
    main.append(h('p', { text: 'No programs yet. Create one with POST /api/programs, or start Slipway with `npm start` to seed the demo.' }));
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

async function currentExecutionId(pipeline) {
  const href = linkOf(pipeline, rel.execution);
  if (!href) return undefined;
  try {
    return (await get(href))?.id;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

export async function renderProgram(main, [programId]) {
  const program = await get(paths.program(programId));
  const href = linkOf(program, rel.pipelines) ?? `${paths.program(programId)}/pipelines`;
  const pipelines = embedded(await get(href), 'pipelines');
  main.append(h('h1', { text: `${program.name}: pipelines` }));
  if (pipelines.length === 0) {
    main.append(h('p', { text: 'This program has no pipelines yet (POST /api/program/:id/pipelines).' }));
    return;
  }
  const rows = await Promise.all(pipelines.map(async (pl) => {
    const busy = pl.status === 'BUSY' || pl.status === 'WAITING';
    const current = busy ? await currentExecutionId(pl).catch(() => undefined) : undefined;
    const status = h('div.row-status');
    const button = h('button.primary', { type: 'button', 'aria-label': `Deploy ${pl.name}` }, 'Deploy');
    button.addEventListener('click', () => deploy(pl, button, status));
    if (busy) button.disabled = true;
    return h('tr', {},
      h('th', { scope: 'row' }, pl.name, h('div.muted', { text: [pipelineTypeText(pl), pl.trigger, `id ${pl.id}`].filter(Boolean).join(' · ') })),
      h('td', {}, badge(pl.status ?? 'IDLE')),
      h('td', { text: formatTime(pl.lastStartedAt) || '—' }),
      h('td', {}, current
        ? h('a', { href: `#${executionRoute(programId, pl.id, current)}` }, `Execution ${current}`)
        : h('span.muted', { text: 'none running' })),
      h('td.actions', {}, button, ' ', h('a', { href: `#/program/${programId}/pipeline/${pl.id}/history` }, 'History'), status));
  }));
  main.append(h('table.data', {},
    h('caption.sr-only', { text: 'Pipelines' }),
    h('thead', {}, h('tr', {}, ['Pipeline', 'Status', 'Last started', 'Current execution', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows)));
}
