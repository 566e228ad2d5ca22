// The Pipeline Execution screen: phases with steps, live status and durations (server-sent
// events, no reloads), logs with live tail, quality gates, approval, schedule, pause, cancel,
// re-execute, the audit trail, and the experience audit.
import { embedded, followEvents, get, linkOf, paths, rel, request } from '../api.js';
import { auditPanel, auditSeries, trendChart } from '../audit.js';
import { badge, clear, duration, formatTime, h } from '../dom.js';
import { DeployPanel } from '../deploy-view.js';
import { LogTail } from '../log-tail.js';
import { DONE, ENDED, GATES, phasesOf, stepLabel } from '../steps.js';
import { errorBox, navigate, toast } from '../ui.js';

const ACTIVE = new Set(['RUNNING', 'ROLLING_BACK']);
const COMPARATORS = { GT: '>', GTE: '≥', LT: '<', LTE: '≤', EQ: '=', NEQ: '≠' };

/** "approved by admin at …": who did what, from details.user / details.input. */
function describeInput(details) {
  const input = details?.input;
  if (!details?.user || input === undefined) return undefined;
  let what = 'acted';
  if (input && typeof input === 'object') {
    if (input.approved === true) what = 'approved';
    else if (input.approved === false) what = 'rejected';
    else if (Array.isArray(input.metrics)) what = 'overrode the failing metrics';
    else if (input.override === false) what = 'rejected the failing metrics';
    else if (input.resume === true) what = 'resumed the deployment';
    else if (input.resume === false) what = 'stopped the deployment';
    else if (input.type === 'IMMEDIATE') what = 'chose to deploy now';
    else if (input.type === 'SCHEDULED') what = `scheduled the deployment for ${formatTime(input.schedule)}`;
    else if (input.start === true) what = 'started the deployment';
    else if (input.start === false) what = 'declined the deployment';
    else if (input.cancel === true) what = 'cancelled';
  }
  const at = details.advancedAt ?? details.cancelledAt;
  return `${what[0].toUpperCase()}${what.slice(1)} by ${details.user}${at ? ` at ${formatTime(at)}` : ''}`;
}

function metricsTable(metrics) {
  if (metrics.length === 0) return h('p.muted', { text: 'No metrics.' });
  return h('table.data.compact', {},
    h('caption.sr-only', { text: 'Metrics' }),
    h('thead', {}, h('tr', {}, ['Metric', 'Severity', 'Actual', 'Expected', 'Result'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, metrics.map((m) => h('tr', {},
      h('th', { scope: 'row', text: m.kpi }),
      h('td', { text: m.severity }),
      h('td', { text: m.actualValue }),
      h('td', { text: `${COMPARATORS[m.comparator] ?? m.comparator} ${m.expectedValue}` }),
      h('td', {}, m.passed ? h('span.badge.badge-ok', { text: 'passed' })
        : m.override ? h('span.badge.badge-wait', { text: 'overridden' }) : h('span.badge.badge-bad', { text: 'failed' }))))));
}

class StepCard {
  constructor(screen, step, trigger) {
    this.screen = screen;
    this.signature = '';
    this.label = stepLabel(step, trigger);
    this.title = h('h3', { text: this.label });
    this.badge = h('span');
    this.time = h('span.muted.small');
    this.reason = h('p.reason');
    this.who = h('p.who');
    this.controls = h('div.controls');
    this.extra = h('div.extra');
    this.message = h('div', { 'aria-live': 'polite' });
    this.logButton = h('button.link', { type: 'button', 'aria-expanded': 'false' }, 'Show log');
    this.logButton.addEventListener('click', () => this.toggleLog());
    this.logBox = h('div');
    this.deploy = step.action === 'deploy' ? new DeployPanel(step) : undefined;
    this.el = h('li.step', { 'data-step': step.id, 'data-action': step.action },
      h('div.step-head', {}, this.title, this.badge, this.time), this.reason, this.who, this.controls, this.message,
      this.deploy?.el, this.extra, h('div.step-foot', {}, this.logButton), this.logBox);
    this.update(step);
  }

  update(step) {
    this.step = step;
    this.el.dataset.status = step.status;
    this.badge.replaceChildren(badge(step.status));
    this.tick();
    this.reason.textContent = step.reason && !DONE.has(step.status) ? step.reason : '';
    this.who.textContent = describeInput(step.details) ?? '';
    this.logButton.hidden = !linkOf(step, rel.logs);
    this.tail?.setStep(step);
    const signature = `${step.status}|${Object.keys(step._links ?? {}).sort().join(',')}|${JSON.stringify(step.details?.audit?.categories ?? null)}`;
    if (signature !== this.signature) {
      this.signature = signature;
      this.renderControls().catch((error) => this.message.replaceChildren(errorBox(error)));
    }
    this.deploy?.update(step);
  }

  tick() {
    const d = duration(this.step.startedAt, this.step.finishedAt);
    this.time.textContent = d ? (ACTIVE.has(this.step.status) ? `running for ${d}` : d) : '';
  }

  toggleLog() {
    if (this.tail) {
      this.tail.stop();
      this.tail = undefined;
      this.logBox.replaceChildren();
      this.logButton.textContent = 'Show log';
      this.logButton.setAttribute('aria-expanded', 'false');
      return;
    }
    this.tail = new LogTail(this.step);
    this.logBox.replaceChildren(this.tail.el);
    this.logButton.textContent = 'Hide log';
    this.logButton.setAttribute('aria-expanded', 'true');
  }

  /** Runs an action; buttons stay disabled while it runs; problem+json detail on failure. */
  async act(label, fn) {
    for (const b of this.controls.querySelectorAll('button, input')) b.disabled = true;
    this.message.replaceChildren();
    try {
      await fn();
      toast(`${this.label}: ${label}`);
      this.screen.refresh();
    } catch (error) {
      this.message.replaceChildren(errorBox(error));
      for (const b of this.controls.querySelectorAll('button, input')) b.disabled = false;
    }
  }

  button(text, kind, label, fn) {
    return h(`button.${kind}`, { type: 'button', onClick: () => this.act(label, fn) }, text);
  }

  advance(body) {
    return request('PUT', linkOf(this.step, rel.advance), body);
  }

  cancel(body) {
    return request('PUT', linkOf(this.step, rel.cancel), body);
  }

  async renderControls() {
    const s = this.step;
    const canAdvance = Boolean(linkOf(s, rel.advance));
    const canCancel = Boolean(linkOf(s, rel.cancel));
    const controls = [];
    const extra = [];
    if (canAdvance && s.action === 'approval') {
      controls.push(this.button('Approve', 'primary', 'approved', () => this.advance({ approved: true })));
      if (canCancel) controls.push(this.button('Reject', 'danger', 'rejected', () => this.cancel({ approved: false })));
    } else if (canAdvance && s.action === 'schedule') {
      const id = `schedule-${s.id}`;
      const when = h('input', { id, type: 'datetime-local', required: true });
      controls.push(this.button('Deploy now', 'primary', 'deploying now', () => this.advance({ type: 'IMMEDIATE' })),
        h('span.inline-field', {}, h('label', { for: id, text: 'or at' }), when,
          this.button('Schedule', 'secondary', 'scheduled', () => {
            if (!when.value) throw new Error('choose a date and time first');
            return this.advance({ type: 'SCHEDULED', schedule: new Date(when.value).toISOString() });
          })));
    } else if (canAdvance && s.action === 'deploy') {
      controls.push(this.button('Resume deployment', 'primary', 'resumed', () => this.advance({ resume: true })),
        this.button('Stop', 'danger', 'stopped', () => this.advance({ resume: false })));
    } else if (canAdvance && s.action === 'managed') {
      controls.push(this.button('Start deployment', 'primary', 'started', () => this.advance({ start: true })),
        this.button('Decline', 'danger', 'declined', () => this.cancel({ start: false })));
    } else if (canAdvance) {
      const metrics = (await get(linkOf(s, rel.metrics))).metrics ?? [];
      const failing = metrics.filter((m) => m.severity === 'important' && !m.passed);
      extra.push(metricsTable(metrics));
      controls.push(this.button('Override and continue', 'primary', 'overridden',
        () => this.advance({ metrics: failing.map((m) => ({ ...m, override: true })) })));
      if (canCancel) controls.push(this.button('Reject', 'danger', 'rejected', () => this.cancel({ override: false })));
    } else if (canCancel && s.status === 'RUNNING') {
      controls.push(this.button('Cancel step', 'secondary', 'cancelling', () => this.cancel({ cancel: true })));
    }
    if (linkOf(s, rel.reExecute)) {
      controls.push(this.button('Re-execute', 'secondary', 're-executing', async () => {
        const { body } = await request('PUT', linkOf(s, rel.reExecute));
        navigate(`/program/${body.programId}/pipeline/${body.pipelineId}/execution/${body.id}`);
      }));
    }
    if (!canAdvance && (GATES.has(s.action) || s.action === 'contentAudit') && linkOf(s, rel.metrics) && ENDED.has(s.status === 'INCOMPLETE' ? 'FINISHED' : s.status)) {
      const metrics = (await get(linkOf(s, rel.metrics))).metrics ?? [];
      if (metrics.length && s.action !== 'contentAudit') extra.push(h('details', {}, h('summary', { text: `Metrics (${metrics.length})` }), metricsTable(metrics)));
    }
    if (s.action === 'contentAudit' && s.details?.audit) {
      const c = s.details.audit.categories ?? {};
      extra.push(h('p.small', {}, `Scores: performance ${c.performance ?? '–'}, accessibility ${c.accessibility ?? '–'}, best practices ${c['best-practices'] ?? '–'}, SEO ${c.seo ?? '–'}. `,
        h('a', { href: '#experience-audit', onClick: (e) => { e.preventDefault(); document.getElementById('experience-audit')?.focus(); document.getElementById('experience-audit')?.scrollIntoView(); } }, 'Details below')));
      await this.screen.showAudit(s.details.audit);
    }
    this.controls.replaceChildren(...controls);
    this.extra.replaceChildren(...extra);
  }
}

export async function renderExecution(main, [programId, pipelineId, executionId]) {
  const href = paths.execution(programId, pipelineId, executionId);
  const abort = new AbortController();
  const [first, pipeline] = await Promise.all([get(href), get(paths.pipeline(programId, pipelineId)).catch(() => undefined)]);
  const cards = new Map();
  const summary = h('dl.summary');
  const status = h('span');
  const top = h('div.controls');
  // Empty until the event stream is connected, and for an execution that has ended.
  const live = h('span.live', { hidden: true });
  const phasesEl = h('div.phases');
  const message = h('div', { 'aria-live': 'polite' });
  main.append(
    h('p.crumbs', {}, h('a', { href: `#/program/${programId}` }, 'Pipelines'), ' › ',
      h('a', { href: `#/program/${programId}/pipeline/${pipelineId}/history` }, `${pipeline?.name ?? 'Pipeline'} history`)),
    h('div.title-row', {}, h('h1', { text: `${pipeline?.name ?? `Pipeline ${pipelineId}`}: execution ${executionId}` }), status, live),
    summary, top, message, phasesEl);

  const auditSection = h('section.card.audit-section', { id: 'experience-audit', tabindex: '-1', 'aria-labelledby': 'audit-title', hidden: true });
  main.append(auditSection);
  let trendPromise;
  const screen = {
    refresh: () => scheduleRefresh(),
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

  let current = first;
  /** 'live' | 'reconnecting' | 'polling' | undefined (nothing shown). */
  function showLive(state) {
    const shown = ENDED.has(current.status) ? undefined : state;
    live.hidden = !shown;
    live.dataset.state = shown ?? '';
    live.replaceChildren(...(shown === 'live' ? [h('span.live-dot', { 'aria-hidden': 'true' }), 'Live']
      : shown === 'reconnecting' ? ['Reconnecting…']
        : shown === 'polling' ? ['Refreshing every 2 s'] : []));
    live.title = shown === 'live' ? 'Updates arrive as they happen' : shown === 'polling' ? 'Live updates are unavailable' : '';
  }

  function render(execution) {
    current = execution;
    // The event stream ends with the execution; don't reconnect to a finished one.
    if (ENDED.has(execution.status)) { abort.abort(); showLive(undefined); }
    status.replaceChildren(badge(execution.status));
    const started = execution.createdAt;
    const fact = (term, value, id) => h('div', {}, h('dt', { text: term }), h('dd', { text: value, id }));
    summary.replaceChildren(
      fact('Trigger', `${execution.trigger}${execution.pipelineExecutionMode === 'EMERGENCY' ? ' (emergency)' : ''}`),
      fact('Started by', execution.user || 'automatic'),
      fact('Started', formatTime(started)),
      fact('Duration', duration(started, execution.finishedAt), 'execution-duration'),
      fact('Artifacts', execution.artifactsVersion ?? '—'),
    );
    const steps = embedded(execution, 'stepStates');
    for (const phase of phasesOf(execution, steps)) {
      let section = phasesEl.querySelector(`section[data-phase="${phase.name}"]`);
      if (!section) {
        const id = `phase-${phase.name.replace(/\W+/g, '-').toLowerCase()}`;
        section = h('section.phase', { 'data-phase': phase.name, 'aria-labelledby': id }, h('h2', { id, text: phase.name }), h('ol.steps'));
        phasesEl.append(section);
      }
      const done = phase.steps.filter((s) => DONE.has(s.status)).length;
      section.dataset.state = phase.steps.some((s) => ['FAILED', 'ERROR', 'CANCELLED', 'ROLLED_BACK'].includes(s.status)) ? 'bad'
        : done === phase.steps.length ? 'ok' : phase.steps.some((s) => s.status !== 'NOT_STARTED') ? 'run' : 'idle';
      for (const step of phase.steps) {
        const card = cards.get(step.id);
        if (card) card.update(step);
        else {
          const created = new StepCard(screen, step, execution.trigger);
          cards.set(step.id, created);
          section.querySelector('ol').append(created.el);
        }
      }
    }
    const cancellable = steps.find((s) => linkOf(s, rel.cancel));
    top.replaceChildren(...(!ENDED.has(execution.status) && cancellable ? [h('button.danger', {
      type: 'button',
      onClick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          await request('PUT', linkOf(cancellable, rel.cancel), { cancel: true });
          toast('Cancelling the execution');
          scheduleRefresh();
        } catch (error) {
          message.replaceChildren(errorBox(error));
        }
      },
    }, 'Cancel execution')] : []));
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
  const ticker = setInterval(() => {
    for (const card of cards.values()) if (ACTIVE.has(card.step.status)) card.tick();
    if (!ENDED.has(current.status)) summary.querySelector('#execution-duration').textContent = duration(current.createdAt, current.finishedAt);
  }, 1000);
  // Events drive the screen; a slow poll covers a dropped stream, a fast one replaces it if it is missing.
  let poll = setInterval(() => { if (!ENDED.has(current.status)) scheduleRefresh(); }, 15000);
  if (!ENDED.has(first.status)) followEvents(`${href}/events`, {
    signal: abort.signal,
    onOpen: () => showLive('live'),
    onDrop: () => showLive('reconnecting'),
    onEvent: (type, data) => {
      if (type === 'snapshot' && data && data.id === executionId && data._embedded) render(data);
      else scheduleRefresh();
    },
    onFailure: () => {
      showLive('polling');
      clearInterval(poll);
      poll = setInterval(() => { if (!ENDED.has(current.status)) scheduleRefresh(); }, 2000);
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
