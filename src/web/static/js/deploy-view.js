// A deploy step's progress: a compact table with one row per node (what it is doing now, and
// the release it runs), the full command list folded away, and a notice while the deployment is
// rolled back. Built from Slipway's record in the step's details (src/steps/deploy-details.ts:
// `rollout`, with the release and every progress record; Cloud Manager's deployCommands there is
// a JSON string for its clients) and updated in place, so an opened command list stays open
// while the deploy goes on.
import { badge, h } from './dom.js';

// Shown next to the command's status badge (running / finished / failed).
const ACTION_TEXT = {
  drain: 'drain', drainWait: 'wait for requests to end', deploy: 'deploy', start: 'start the new release beside the running one',
  flush: 'cache flush', warm: 'cache warm-up', health: 'health check', attach: 'back into the load balancer',
  rollback: 'rollback',
};
const RELEASE_ACTIONS = new Set(['deploy', 'rollback']);

export const actionText = (action) => ACTION_TEXT[action] ?? String(action ?? '');

/** The release being deployed: `rollout`, or `deploy` in steps recorded before it existed. */
const releaseOf = (details) => details?.rollout ?? details?.deploy;

/**
 * The progress records of a step's details: `rollout.commands`; in steps recorded before it,
 * the `deployCommands` array (not Cloud Manager's string), or the per-node map.
 */
function commandsOf(details) {
  if (Array.isArray(details?.rollout?.commands)) return details.rollout.commands;
  if (Array.isArray(details?.deployCommands)) return details.deployCommands;
  return Object.entries(details?.nodes ?? {}).map(([node, n]) => ({ node, ...n }));
}

/**
 * One entry per node, in order of first mention: its latest command, the release it was last
 * brought to (`release`), the one it is being brought to (`target`), and whether it was rolled
 * back. A command on "dispatcher-1,dispatcher-2" counts for both. Pure.
 */
export function nodeStates(details) {
  const nodes = new Map();
  for (const c of commandsOf(details)) {
    for (const name of String(c.node ?? '').split(',').map((n) => n.trim()).filter(Boolean)) {
      const node = { release: undefined, target: undefined, rolledBack: false, ...nodes.get(name),
        node: name, action: c.action, status: c.status, message: c.message };
      if (RELEASE_ACTIONS.has(c.action)) {
        // deploy/rollback commands carry the version they bring the node to as their message.
        const version = c.message ?? (c.action === 'deploy' ? releaseOf(details)?.version : undefined);
        if (c.status === 'FINISHED') { node.release = version; node.target = undefined; }
        else node.target = c.status === 'RUNNING' ? version : undefined;
        if (c.action === 'rollback') node.rolledBack = true;
      }
      nodes.set(name, node);
    }
  }
  return [...nodes.values()];
}

/** 'rolling back' | 'rolled back' | undefined, from the step status and its commands. */
export function rollbackState(step) {
  if (step.status === 'ROLLED_BACK') return 'rolled back';
  if (step.status === 'ROLLING_BACK') return 'rolling back';
  const rolling = commandsOf(step.details).some((c) => c.action === 'rollback');
  return rolling && step.status === 'RUNNING' ? 'rolling back' : undefined;
}

/**
 * The release cell: the version the node runs (→ the one it is going to), "previous" after a
 * rollback. The deployment's own version reads "this release" (it is in the headline already).
 */
function releaseCell(n, current) {
  const shown = (v) => (v === 'nothing' ? 'none' : current && v?.startsWith(current) ? `this release${v.slice(current.length)}` : v);
  const text = n.target !== undefined ? `${n.release ? `${shown(n.release)} ` : ''}→ ${shown(n.target)}` : n.release ? shown(n.release) : '—';
  return h('td.release', {}, text, n.rolledBack && n.target === undefined && n.release ? h('span.muted.small.node-note', { text: 'previous' }) : null);
}

function commandText(c) {
  return `${c.node}: ${actionText(c.action)} — ${String(c.status ?? '').toLowerCase()}${c.message ? ` (${c.message})` : ''}`;
}

export class DeployPanel {
  constructor(step) {
    this.signature = '';
    this.headline = h('p.small.deploy-headline');
    this.notice = h('div', { role: 'status' });
    this.rows = h('tbody');
    this.table = h('table.data.compact.deploy-nodes', {},
      h('caption.sr-only', { text: 'Nodes of this deployment' }),
      h('thead', {}, h('tr', {}, ['Node', 'Now', 'Release'].map((t) => h('th', { scope: 'col', text: t })))),
      this.rows);
    this.count = h('summary');
    this.list = h('ol.progress', { 'aria-label': 'Deploy commands' });
    this.all = h('details.deploy-commands', {}, this.count, this.list);
    this.el = h('div.deploy-panel', { hidden: true }, this.headline, this.notice, this.table, this.all);
    this.update(step);
  }

  update(step) {
    const commands = commandsOf(step.details);
    const rollback = rollbackState(step);
    const signature = `${step.status}|${commands.length}|${JSON.stringify(commands.at(-1) ?? null)}`;
    if (signature === this.signature) return;
    this.signature = signature;
    const deploy = releaseOf(step.details);
    this.el.hidden = !deploy && commands.length === 0;
    this.headline.textContent = deploy
      ? `Release ${deploy.version}${deploy.dispatcherOnly ? ', dispatcher package only' : ''}` : '';
    this.renderNotice(rollback);
    this.rows.replaceChildren(...nodeStates(step.details).map((n) => h('tr', { 'data-node': n.node },
      h('th', { scope: 'row', text: n.node }),
      h('td', {}, `${actionText(n.action)} `, badge(n.status),
        n.message && (n.status === 'FAILED' || !RELEASE_ACTIONS.has(n.action)) ? h('span.muted.small.node-note', { text: n.message }) : null),
      releaseCell(n, deploy?.version))));
    this.table.hidden = commands.length === 0;
    this.all.hidden = commands.length === 0;
    this.count.textContent = `All deploy commands (${commands.length})`;
    this.list.replaceChildren(...commands.map((c) => h('li', { text: commandText(c) })));
  }

  renderNotice(rollback) {
    // Only a change of state is put into the live region, so screen readers hear it once.
    if (rollback === this.rollback) return;
    this.rollback = rollback;
    this.notice.replaceChildren(...(rollback === 'rolling back'
      ? [h('p.notice.notice-wait', { text: 'Rolling back: the nodes already changed are being put back on the previous release.' })]
      : rollback === 'rolled back'
        ? [h('p.notice.notice-bad', { text: 'Rolled back: the nodes run the previous release again.' })]
        : []));
  }
}
