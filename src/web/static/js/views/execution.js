// The Pipeline Execution screen: an attention banner (what needs you, why it failed, who
// cancelled), phases with steps, live status and durations (server-sent events carry the
// changed step, which patches its card), logs, quality gates, approval, schedule, pause, one
// cancel control, re-execute, redeploy of an earlier release, the audit trail, and the experience audit.
import { embedded, followEvents, get, linkOf, paths, rel, request } from '../api.js';
import { auditPanel, auditSeries, trendChart } from '../audit.js';
import { confirmAct, withComment } from '../confirm.js';
import { badge, clear, duration, formatTime, h, parseTime } from '../dom.js';
import { roleText } from '../session.js';
import { StepCard } from '../step-card.js';
import { metricLine } from '../metrics.js';
import { redeployButton } from '../redeploy.js';
import { stepLabel, waitingFor } from '../steps.js';
import { errorBox, setTitle, toast } from '../ui.js';

const BAD = new Set(['FAILED', 'ERROR', 'ROLLED_BACK']);

const PEOPLE_STEPS = new Set(['approval', 'schedule', 'managed']);

/** The execution's time without the steps that wait for a person (approval, schedule, oversight). */
function workingTime(execution, steps) {
  const ms = (a, b) => Math.max(0, (parseTime(b) ?? new Date()).getTime() - (parseTime(a)?.getTime() ?? Date.now()));
  const waited = steps.filter((s) => PEOPLE_STEPS.has(s.action) && s.startedAt).reduce((sum, s) => sum + ms(s.startedAt, s.finishedAt), 0);
  if (waited === 0) return undefined;
  const start = parseTime(execution.createdAt);
  if (!start) return undefined;
  return duration(execution.createdAt, undefined, start.getTime() + Math.max(0, ms(execution.createdAt, execution.finishedAt) - waited));
}

/** What the source steps say about the code: commit, branch, repository. */
function sourceOf(steps) {
  const s = steps.find((x) => x.commitId || x.repository) ?? {};
  return { commit: s.commitId, branch: s.branch, repository: s.repository };
}

/** "Waiting for your go-live approval" (your: only where the phrase has no article of its own). */
function waitingText(step, mine) {
  const phrase = waitingFor(step, formatTime);
  return `Waiting for ${mine && !/^(a|an|the) /.test(phrase) ? 'your ' : ''}${phrase}`;
}

/** The attention banner: what is waiting (and for whom), why it failed, who cancelled. */
function attention(execution, steps, cards) {
  const waiting = steps.find((s) => s.status === 'WAITING');
  if (waiting && !execution.ended) {
    const card = cards.get(waiting.id);
    const label = stepLabel(waiting, execution.trigger);
    const mine = Boolean(linkOf(waiting, rel.advance));
    const what = waiting.gate ? `${label} needs a decision: ${(card?.metrics ?? []).filter((m) => !m.passed && !m.override && m.severity === 'important').map(metricLine).join('; ') || 'important metrics failed'}`
      : waitingText(waiting, mine);
    const acts = mine && card ? card.buttonsFor(card.lastActs ?? [], false) : [];
    const scheduleHint = waiting.action === 'schedule' && mine ? [h('a', { href: `#step-${waiting.id}`, onClick: (e) => { e.preventDefault(); card?.el.scrollIntoView(); card?.el.querySelector('input,button')?.focus(); } }, 'Choose when')] : [];
    return { kind: 'wait', text: mine ? what : `${what} — your role cannot act on it.`, acts: [...acts, ...scheduleHint] };
  }
  if (!execution.ended) return undefined;
  if (execution.status === 'CANCELLED') {
    const by = steps.map((s) => s.details).find((d) => d?.cancelledAt || d?.input?.cancel);
    return { kind: 'bad', text: by ? `Cancelled by ${by.user} at ${formatTime(by.cancelledAt ?? by.advancedAt)}` : 'Cancelled' };
  }
  const failed = steps.find((s) => BAD.has(s.status)) ?? steps.find((s) => s.status === 'CANCELLED');
  if (failed && execution.status !== 'FINISHED') {
    return { kind: 'bad', text: `Failed at ${stepLabel(failed, execution.trigger)}${failed.reason ? `: ${failed.reason}` : ''}` };
  }
  return undefined;
}

export async function renderExecution(main, [programId, pipelineId, executionId]) {
  const href = paths.execution(programId, pipelineId, executionId);
  const abort = new AbortController();
  const [first, pipeline] = await Promise.all([get(href), get(paths.pipeline(programId, pipelineId)).catch(() => undefined)]);
  const name = pipeline?.name ?? `Pipeline ${pipelineId}`;
  setTitle(`Execution ${executionId} · ${name}`);
  const cards = new Map();
  const summary = h('dl.summary');
  const status = h('span');
  const top = h('div.controls');
  const banner = h('div.attention', { role: 'region', 'aria-label': 'Needs attention', hidden: true });
  // Empty until the event stream is connected, and for an execution that has ended.
  const live = h('span.live', { hidden: true });
  const phasesEl = h('div.phases');
  const message = h('div', { 'aria-live': 'polite' });
  main.append(
    h('p.crumbs', {}, h('a', { href: `#/program/${programId}` }, 'Pipelines'), ' › ',
      h('a', { href: `#/program/${programId}/pipeline/${pipelineId}/history` }, `${name} history`)),
    h('div.title-row', {}, h('h1', { text: `${name}: execution ${executionId}` }), status, live,
      h('span.muted.small.role', { text: `Your role: ${roleText(programId)}` })),
    banner, summary, top, message, phasesEl);

  const auditSection = h('section.card.audit-section', { id: 'experience-audit', tabindex: '-1', 'aria-labelledby': 'audit-title', hidden: true });
  main.append(auditSection);
  let trendPromise;
  let current = first;
  let steps = embedded(first, 'stepStates');
  const screen = {
    // While the stream is live the change arrives as an event; a read would only echo it.
    refresh: () => { if (!streaming) scheduleRefresh(); },
    showMessage: (error) => message.replaceChildren(errorBox(error)),
    attentionChanged: () => drawBanner(),
    async showAudit(audit) {
      trendPromise ??= get(`${paths.pipeline(programId, pipelineId)}/executions?start=0&limit=20`)
        .then((list) => trendChart(auditSeries(embedded(list, 'executions'))))
        .catch((error) => errorBox(error));
      const trend = await trendPromise;
      auditSection.replaceChildren(h('h2', { id: 'audit-title', text: 'Experience audit' }),
        h('div.audit-grid', {}, auditPanel(audit), h('div', {}, h('h3', { text: 'Trend over executions' }), trend)));
      auditSection.hidden = false;
    },
  };

  /** 'live' | 'reconnecting' | 'polling' | undefined (nothing shown). */
  function showLive(state) {
    const shown = current.ended ? undefined : state;
    live.hidden = !shown;
    live.dataset.state = shown ?? '';
    live.replaceChildren(...(shown === 'live' ? [h('span.live-dot', { 'aria-hidden': 'true' }), 'Live']
      : shown === 'reconnecting' ? ['Reconnecting…']
        : shown === 'polling' ? ['Refreshing every 2 s'] : []));
    live.title = shown === 'live' ? 'Updates arrive as they happen' : shown === 'polling' ? 'Live updates are unavailable' : '';
  }

  let bannerKey = '';
  /** Redrawn after every change; the waiting step's card has worked out its acts (lastActs). */
  function drawBanner() {
    const a = attention(current, steps, cards);
    const key = a ? `${a.kind}|${a.text}|${a.acts?.length ?? 0}` : '';
    if (key === bannerKey) return;
    bannerKey = key;
    banner.hidden = !a;
    banner.dataset.kind = a?.kind ?? '';
    banner.replaceChildren(...(a ? [h('p.attention-text', { text: a.text }), a.acts?.length ? h('div.controls', {}, a.acts) : null] : []));
  }

  function drawSummary(execution) {
    const fact = (term, value, id) => (value ? h('div', {}, h('dt', { text: term }), h('dd', { id }, value)) : null);
    const src = sourceOf(steps);
    summary.replaceChildren(...[
      fact('Trigger', `${execution.trigger}${execution.pipelineExecutionMode === 'EMERGENCY' ? ' (emergency)' : ''}`),
      fact('Started by', execution.user || 'automatic'),
      fact('Started', formatTime(execution.createdAt)),
      fact('Duration', duration(execution.createdAt, execution.finishedAt), 'execution-duration'),
      fact('Without waiting for people', workingTime(execution, steps), 'execution-working-time'),
      fact('Repository', src.repository),
      fact('Branch', src.branch),
      fact('Commit', src.commit ? h('code', { title: src.commit, text: src.commit.slice(0, 10) }) : undefined),
      fact('Artifacts', execution.artifactsVersion ?? '—'),
    ].filter(Boolean));
  }

  function placeCard(step) {
    const card = cards.get(step.id);
    if (card) return card.update(step, current);
    const phase = step.phaseName ?? 'Steps';
    let section = phasesEl.querySelector(`section[data-phase="${phase}"]`);
    if (!section) {
      const id = `phase-${phase.replace(/\W+/g, '-').toLowerCase()}`;
      section = h('section.phase', { 'data-phase': phase, 'aria-labelledby': id }, h('h2', { id, text: phase }), h('ol.steps'));
      phasesEl.append(section);
    }
    const created = new StepCard(screen, step, current);
    created.el.id = `step-${step.id}`;
    cards.set(step.id, created);
    section.querySelector('ol').append(created.el);
    return undefined;
  }

  function drawPhases() {
    for (const section of phasesEl.querySelectorAll('section.phase')) {
      const list = steps.filter((s) => (s.phaseName ?? 'Steps') === section.dataset.phase);
      section.dataset.state = list.some((s) => BAD.has(s.status) || s.status === 'CANCELLED') ? 'bad'
        : list.every((s) => s.done) ? 'ok' : list.some((s) => s.status !== 'NOT_STARTED') ? 'run' : 'idle';
    }
  }

  /** One cancel control for the whole execution (it cancels through a step's cancel link). */
  function drawTop() {
    const cancellable = steps.find((s) => linkOf(s, rel.cancel) && s.status === 'RUNNING') ?? steps.find((s) => linkOf(s, rel.cancel));
    top.replaceChildren(...(!current.ended && cancellable ? [h('button.danger', {
      type: 'button',
      onClick: async (event) => {
        const button = event.currentTarget;
        const answer = await confirmAct({ title: `Cancel execution ${executionId}`, text: 'The running step is stopped and the execution ends as cancelled.', confirmLabel: 'Cancel execution' });
        if (!answer) return;
        button.disabled = true;
        try {
          await request('PUT', linkOf(cancellable, rel.cancel), withComment({ cancel: true }, answer));
          toast('Cancelling the execution');
          scheduleRefresh();
        } catch (error) {
          button.disabled = false;
          message.replaceChildren(errorBox(error));
        }
      },
    }, 'Cancel execution')] : [redeployButton(current, pipeline, (box) => message.replaceChildren(box))].filter(Boolean)));
  }

  function render(execution) {
    current = execution;
    steps = embedded(execution, 'stepStates');
    // The event stream ends with the execution; don't reconnect to a finished one.
    if (execution.ended) { abort.abort(); showLive(undefined); }
    message.replaceChildren();
    status.replaceChildren(badge(execution.status));
    drawSummary(execution);
    for (const step of steps) placeCard(step);
    drawPhases();
    drawTop();
    drawBanner();
  }

  /** The stream's changed step: patch its card (and what depends on it), no refetch. */
  function patchStep(step) {
    const i = steps.findIndex((s) => s.id === step.id);
    if (i < 0) return scheduleRefresh();
    steps[i] = step;
    message.replaceChildren();
    placeCard(step);
    drawPhases();
    drawTop();
    drawBanner();
    if (step.commitId || step.repository) drawSummary(current);
    return undefined;
  }

  let pending;
  function scheduleRefresh() {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      try {
        render(await get(href));
      } catch (error) {
        message.replaceChildren(errorBox(error));
      }
    }, 120);
  }

  render(first);
  // A line anchor (…?log=<step>&line=<n>) opens that step's log at the line.
  const anchor = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const anchored = cards.get(anchor.get('log') ?? '');
  if (anchored && !anchored.logButton.hidden) {
    anchored.toggleLog(Number(anchor.get('line')) || undefined);
    anchored.el.scrollIntoView();
  }
  const ticker = setInterval(() => {
    for (const card of cards.values()) card.tick();
    const d = summary.querySelector('#execution-duration');
    if (d && !current.ended) d.textContent = duration(current.createdAt, current.finishedAt);
  }, 1000);
  // Events drive the screen; a slow poll covers a dropped stream, a fast one replaces it if it is missing.
  let streaming = false;
  let poll = setInterval(() => { if (!current.ended && !streaming) scheduleRefresh(); }, 15000);
  if (!first.ended) followEvents(`${href}/events`, {
    signal: abort.signal,
    onOpen: () => { streaming = true; showLive('live'); message.replaceChildren(); },
    onDrop: () => { streaming = false; showLive('reconnecting'); },
    onEvent: (type, data) => {
      if (type === 'snapshot' && data?.id === executionId && data._embedded) render(data);
      else if (data?.stepState) patchStep(data.stepState);
      else if (data?.execution?._embedded) render(data.execution);
      else scheduleRefresh();
    },
    onFailure: () => {
      showLive('polling');
      clearInterval(poll);
      poll = setInterval(() => { if (!current.ended) scheduleRefresh(); }, 2000);
    },
  });
  return () => {
    abort.abort();
    clearInterval(ticker);
    clearInterval(poll);
    clearTimeout(pending);
    for (const card of cards.values()) card.tail?.stop();
    clear(main);
  };
}
