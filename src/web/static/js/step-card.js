// One step of the execution screen: status, time, who acted, its actions (only those the
// API links, so only those the user's role allows), its log, metrics and deploy table.
// The screen patches a card with the step's JSON from the event stream.
import { get, linkOf, rel, request } from './api.js';
import { confirmAct, withComment } from './confirm.js';
import { badge, duration, formatTime, h } from './dom.js';
import { DeployPanel } from './deploy-view.js';
import { evidenceOf } from './evidence.js';
import { LogTail } from './log-tail.js';
import { metricLine, metricsTable } from './metrics.js';
import { stepLabel } from './steps.js';
import { errorBox, navigate, toast } from './ui.js';

const ACTIVE = new Set(['RUNNING', 'ROLLING_BACK']);
export const TIMEZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';

/** "Approved by admin at …: looks good": who did what, from details.user / details.input. */
export function describeInput(details) {
  const input = details?.input;
  if (!details?.user || input === undefined) return undefined;
  let what = 'acted';
  if (input && typeof input === 'object') {
    if (input.approved === true) what = 'approved';
    else if (input.approved === false) what = 'rejected';
    else if (Array.isArray(input.metrics)) what = `overrode ${input.metrics.length === 1 ? 'the failing metric' : 'the failing metrics'}`;
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
  const comment = typeof input?.comment === 'string' && input.comment ? `: “${input.comment}”` : '';
  return `${what[0].toUpperCase()}${what.slice(1)} by ${details.user}${at ? ` at ${formatTime(at)}` : ''}${comment}`;
}

/** A step that never ran because the execution ended before it. */
export const neverRan = (step, execution) => execution?.ended && step.status === 'NOT_STARTED';

export class StepCard {
  constructor(screen, step, execution) {
    this.screen = screen;
    this.signature = '';
    this.label = stepLabel(step, execution.trigger);
    this.title = h('h3', { text: this.label });
    this.badge = h('span');
    this.time = h('span.muted.small');
    this.reason = h('p.reason');
    this.actor = h('p.actor');
    this.controls = h('div.controls');
    this.extra = h('div.extra');
    this.message = h('div', { 'aria-live': 'polite' });
    this.logButton = h('button.link', { type: 'button', 'aria-expanded': 'false', 'aria-label': `Show log of ${this.label}` }, 'Show log');
    this.logButton.addEventListener('click', () => this.toggleLog());
    this.logBox = h('div.log-box');
    this.deploy = step.action === 'deploy' ? new DeployPanel(step) : undefined;
    this.el = h('li.step', { 'data-step': step.id, 'data-action': step.action },
      h('div.step-head', {}, this.title, this.badge, this.time), this.reason, this.actor, this.controls, this.message,
      this.deploy?.el, this.extra, h('div.step-foot', {}, this.logButton), this.logBox);
    this.update(step, execution);
  }

  update(step, execution) {
    this.step = step;
    const skipped = neverRan(step, execution);
    this.el.dataset.status = skipped ? 'NOT_RUN' : step.status;
    this.badge.replaceChildren(skipped ? h('span.badge.badge-muted', { text: 'NOT RUN' }) : badge(step.status));
    this.tick();
    this.reason.textContent = skipped ? 'Never ran: the execution ended before this step.'
      : step.reason && !step.done ? step.reason : '';
    this.actor.textContent = describeInput(step.details) ?? '';
    if (step.gate && Array.isArray(step.details?.input?.metrics)) this.actor.append(h('span.badge.badge-wait', { text: 'overridden' }));
    this.logButton.hidden = !linkOf(step, rel.logs);
    this.tail?.setStep(step);
    const signature = `${step.status}|${Object.keys(step._links ?? {}).sort().join(',')}|${JSON.stringify(step.details?.audit?.categories ?? null)}`;
    if (signature !== this.signature) {
      this.signature = signature;
      this.message.replaceChildren(); // an earlier error is about a state that has passed
      this.renderControls().catch((error) => this.message.replaceChildren(errorBox(error)));
    }
    this.deploy?.update(step);
  }

  tick() {
    const d = duration(this.step.startedAt, this.step.finishedAt);
    this.time.textContent = d ? (ACTIVE.has(this.step.status) ? `running for ${d}` : d) : '';
  }

  /** Opens or closes the log; `line` opens it at that line (a line anchor in the address). */
  toggleLog(line) {
    const open = !this.tail;
    this.tail?.stop();
    this.tail = open ? new LogTail(this.step, this.label, { line }) : undefined;
    this.logBox.replaceChildren(...(open ? [this.tail.el] : []));
    this.logButton.textContent = open ? 'Hide log' : 'Show log';
    this.logButton.setAttribute('aria-label', `${open ? 'Hide' : 'Show'} log of ${this.label}`);
    this.logButton.setAttribute('aria-expanded', String(open));
  }

  /** Runs an act; its buttons stay disabled while it runs; problem+json detail on failure. */
  async act(action, buttons) {
    let body = action.body;
    if (action.confirm) {
      const answer = await confirmAct(action.confirm);
      if (!answer) return;
      body = withComment(body, answer);
    }
    for (const b of buttons) b.disabled = true;
    this.message.replaceChildren();
    try {
      await action.run(body);
      toast(`${this.label}: ${action.done}`);
      // The button that had focus goes away with the state it acted on: keep focus on the step.
      const lost = document.activeElement === document.body || buttons.includes(document.activeElement);
      if (lost) { this.title.tabIndex = -1; this.title.focus(); }
      this.screen.refresh();
    } catch (error) {
      this.message.replaceChildren(errorBox(error));
      this.screen.showMessage?.(error);
      for (const b of buttons) b.disabled = false;
    }
  }

  /** The acts this step offers now: { text, kind, done, body, run, confirm? }. */
  async actionsOf() {
    const s = this.step;
    const advance = linkOf(s, rel.advance);
    const cancel = linkOf(s, rel.cancel);
    const put = (href) => (body) => request('PUT', href, body);
    const reject = (what, body, text) => ({ text, kind: 'danger', done: 'rejected', body, run: put(cancel),
      confirm: { title: `${text} – ${this.label}`, text: what, confirmLabel: text } });
    const acts = [];
    if (advance && s.action === 'approval') {
      acts.push({ text: 'Approve', kind: 'primary', done: 'approved', body: { approved: true }, run: put(advance) });
      if (cancel) acts.push(reject('The execution ends here; nothing is deployed to production.', { approved: false }, 'Reject'));
    } else if (advance && s.action === 'deploy') {
      acts.push({ text: 'Resume deployment', kind: 'primary', done: 'resumed', body: { resume: true }, run: put(advance) },
        { text: 'Stop', kind: 'danger', done: 'stopped', body: { resume: false }, run: put(advance),
          confirm: { title: `Stop – ${this.label}`, text: 'The production deployment does not start; the execution ends.', confirmLabel: 'Stop' } });
    } else if (advance && s.action === 'managed') {
      acts.push({ text: 'Start deployment', kind: 'primary', done: 'started', body: { start: true }, run: put(advance) });
      if (cancel) acts.push(reject('The production deployment does not start; the execution ends.', { start: false }, 'Decline'));
    } else if (advance && s.gate) {
      const metrics = (await get(linkOf(s, rel.metrics))).metrics ?? [];
      const failing = metrics.filter((m) => m.severity === 'important' && !m.passed && !m.override);
      acts.push({ text: 'Override and continue', kind: 'primary', done: 'overridden',
        body: { metrics: failing.map((m) => ({ ...m, override: true })) }, run: put(advance),
        confirm: { title: `Override – ${this.label}`, text: 'These failing metrics are accepted and the execution goes on:',
          items: failing.map(metricLine), confirmLabel: 'Override', danger: false } });
      if (cancel) acts.push(reject('The execution ends here, failed at this gate.', { override: false }, 'Reject'));
      this.metrics = metrics;
    }
    if (linkOf(s, rel.reExecute)) {
      acts.push({ text: 'Re-execute', kind: 'secondary', done: 're-executing', run: async () => {
        const { body } = await request('PUT', linkOf(s, rel.reExecute));
        navigate(`/program/${body.programId}/pipeline/${body.pipelineId}/execution/${body.id}`);
      } });
    }
    return acts;
  }

  /** Buttons for `acts`; `named` adds the step's name to each accessible name (unique on the page). */
  buttonsFor(acts, named) {
    const buttons = acts.map((a) => h(`button.${a.kind}`, { type: 'button', 'aria-label': named ? `${a.text} (${this.label})` : null }, a.text));
    buttons.forEach((b, i) => b.addEventListener('click', () => this.act(acts[i], buttons)));
    return buttons;
  }

  async renderControls() {
    const s = this.step;
    this.metrics = undefined;
    const acts = await this.actionsOf();
    this.lastActs = acts;
    const controls = this.buttonsFor(acts, true);
    if (linkOf(s, rel.advance) && s.action === 'schedule') controls.unshift(...this.scheduleControls());
    const extra = [];
    if (this.metrics) extra.push(metricsTable(this.metrics, `Metrics of ${this.label}`));
    else if (s.gate && s.ended && linkOf(s, rel.metrics)) {
      const metrics = (await get(linkOf(s, rel.metrics))).metrics ?? [];
      if (metrics.length) extra.push(h('details', {}, h('summary', { text: `Metrics (${metrics.length})` }), metricsTable(metrics, `Metrics of ${this.label}`)));
    }
    if (s.ended) extra.push(...await evidenceOf(s).catch((error) => [errorBox(error)]));
    if (s.action === 'contentAudit' && s.details?.audit) {
      const c = s.details.audit.categories ?? {};
      extra.push(h('p.small', {}, `Scores: performance ${c.performance ?? '–'}, accessibility ${c.accessibility ?? '–'}, best practices ${c['best-practices'] ?? '–'}, SEO ${c.seo ?? '–'}. `,
        h('a', { href: '#experience-audit', onClick: (e) => { e.preventDefault(); document.getElementById('experience-audit')?.focus(); document.getElementById('experience-audit')?.scrollIntoView(); } }, 'Details below')));
      await this.screen.showAudit(s.details.audit);
    }
    this.controls.replaceChildren(...controls);
    this.extra.replaceChildren(...extra);
    this.screen.attentionChanged?.();
  }

  /** Deploy now, or at a future time in the browser's timezone (past times are refused here). */
  scheduleControls() {
    const id = `schedule-${this.step.id}`;
    const when = h('input', { id, type: 'datetime-local', required: true });
    const note = h('span.small.muted', { text: `Time zone: ${TIMEZONE}` });
    const now = { text: 'Deploy now', kind: 'primary', done: 'deploying now', body: { type: 'IMMEDIATE' }, run: (b) => request('PUT', linkOf(this.step, rel.advance), b) };
    const later = { text: 'Schedule', kind: 'secondary', done: 'scheduled', run: () => {
      const at = when.value ? new Date(when.value) : undefined;
      if (!at) throw new Error('choose a date and time first');
      if (at.getTime() <= Date.now()) throw new Error(`choose a time in the future (${TIMEZONE})`);
      return request('PUT', linkOf(this.step, rel.advance), { type: 'SCHEDULED', schedule: at.toISOString() });
    } };
    const [nowButton, laterButton] = this.buttonsFor([now, later], true);
    return [nowButton, h('span.inline-field.schedule', {}, h('label', { for: id, text: 'or at' }), when, laterButton, note)];
  }
}
