// Environments as an operations view: each one's topology (load balancer → dispatchers →
// publish, and author), the release each node runs, load-balancer membership and cache hit
// ratio, its site links (each release links to the execution that deployed it); create (with
// provisioning progress) and delete for those who may.
// Kept current by the program's event stream: an environment's change of status redraws the
// list; a deploy step's events say what each node is doing now (drain → deploy → warm → back
// in), and each finished command reads the topology again, so a one-second roll can be watched.
import { ApiError, embedded, get, linkOf, paths, REL, rel, request } from '../api.js';
import { confirmAct } from '../confirm.js';
import { actionText } from '../deploy-view.js';
import { badge, h } from '../dom.js';
import { selectField, textField } from '../form.js';
import { followProgram, liveIndicator } from '../program-live.js';
import { mayOperate } from '../session.js';
import { emptyState, errorBox, setTitle, toast } from '../ui.js';

function hitRatio(cache) {
  if (!cache) return undefined;
  const total = (cache.hits ?? 0) + (cache.misses ?? 0);
  return total === 0 ? 'no requests yet' : `${Math.round((100 * cache.hits) / total)}% hits (${cache.hits}/${total})`;
}

/** "sha256:<hex>" → its first 12 hex characters (as image ids are usually shown). */
export function shortDigest(digest) {
  return String(digest).replace(/^sha256:/, '').slice(0, 12);
}

/** The short digest shown; the full one as a tooltip and, for screen readers, as text. */
function digestFact(digest) {
  return [h('code.digest', { title: digest, 'aria-hidden': 'true', text: shortDigest(digest) }),
    h('span.sr-only', { text: digest })];
}

/** A node that never got a release is "not deployed yet" (neutral), not "down". */
function nodeState(node) {
  if (!node.release && !node.healthy) return ['muted', 'not deployed yet'];
  return node.healthy ? ['ok', 'healthy'] : ['bad', 'down'];
}

/** The release's version, linked to the execution that deployed it when the API names one. */
function releaseFact(programId, release) {
  if (!release) return 'none';
  if (!release.executionId || !release.pipelineId) return release.version;
  return h('a', {
    href: `#/program/${encodeURIComponent(programId)}/pipeline/${encodeURIComponent(release.pipelineId)}/execution/${encodeURIComponent(release.executionId)}`,
    title: `Deployed by execution ${release.executionId}`,
  }, release.version, h('span.muted', { text: ` (execution ${release.executionId})` }));
}

function nodeBoxOf(programId, node) {
  const facts = [['Release', releaseFact(programId, node.release)]];
  if (node.release?.appImage) facts.push(['App image', digestFact(node.release.appImage)]);
  if (node.release?.dispatcherImage) facts.push(['Dispatcher image', digestFact(node.release.dispatcherImage)]);
  facts.push(['URL', /^https?:\/\//.test(node.url ?? '') ? h('a', { href: node.url, rel: 'noopener noreferrer', target: '_blank' }, node.url) : node.url ?? '']);
  if (node.lbState) facts.push(['Load balancer', node.lbState]);
  const ratio = hitRatio(node.cache);
  if (ratio) facts.push(['Cache', ratio]);
  const [kind, text] = nodeState(node);
  return h(`li.node.node-${kind}`, { 'data-node': node.name },
    h('div.node-head', {}, h('strong', { text: node.name }), ' ', h(`span.badge.badge-${kind}`, { text })),
    h('p.node-now.small', { hidden: true, 'aria-live': 'polite' }),
    h('dl.facts', {}, facts.map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)])));
}

function topologyView(programId, view) {
  const nodeBox = (node) => nodeBoxOf(programId, node);
  const pairs = view.dispatchers.map((d, i) => h('li.pair', {},
    h('ul.tier', { 'aria-label': `Pair ${i + 1}` }, nodeBox(d), view.publish[i] ? nodeBox(view.publish[i]) : null)));
  return h('div.topology', {},
    h('div.tier-row', {}, h('h3', { text: 'Load balancer' }), h('ul.tier', {}, nodeBox(view.loadBalancer))),
    h('div.tier-row', {}, h('h3', { text: 'Dispatcher → publish pairs' }), h('ol.pairs', {}, pairs)),
    h('div.tier-row', {}, h('h3', { text: 'Author' }), h('ul.tier', {}, nodeBox(view.author))));
}

/** What a deploy is doing to each node now: its latest command ("a,b" names both nodes). */
function nowByNode(rollout) {
  const now = new Map();
  for (const [names, c] of Object.entries(rollout?.nodes ?? {})) {
    for (const name of names.split(',').map((n) => n.trim()).filter(Boolean)) {
      if (!now.has(name) || String(now.get(name).at) < String(c.at)) now.set(name, c);
    }
  }
  return now;
}

/** Marks each node of a topology with what the running deploy does to it (none: hidden). */
function showNow(body, rollout) {
  const now = nowByNode(rollout);
  for (const li of body.querySelectorAll('li.node[data-node]')) {
    const line = li.querySelector('.node-now');
    const c = now.get(li.dataset.node);
    line.hidden = !c;
    li.dataset.action = c ? c.action : '';
    li.dataset.actionStatus = c ? c.status : '';
    line.textContent = c ? `Now: ${actionText(c.action)} — ${String(c.status).toLowerCase()}${rollout.version ? ` (release ${rollout.version})` : ''}` : '';
  }
}

/** Commands whose end changes what the topology shows (release, load-balancer state, cache). */
const CHANGES_TOPOLOGY = new Set(['drain', 'deploy', 'flush', 'warm', 'attach', 'rollback']);

const STATUS_TEXT = { creating: 'Provisioning the nodes…', deleting: 'Deleting…', failed: 'Provisioning failed. Delete it and create it again.' };

function createForm(programId, onCreated) {
  const name = textField('Name', 'name', '', { required: true, maxlength: '64' });
  const type = selectField('Type', 'type', [['dev', 'Development'], ['stage', 'Stage'], ['prod', 'Production']], 'dev');
  const pairs = textField('Publish pairs', 'publishCount', '1', { type: 'number', min: '1', max: '8', required: true }, 'Dispatcher → publish pairs behind the load balancer.');
  const driver = selectField('Runs on', 'driver', [['', 'Default'], ['containers', 'Containers'], ['local', 'Local processes']], '',
    'Author and publish nodes as podman containers (the default where podman works) or sandboxed processes.');
  const message = h('div', { 'aria-live': 'polite' });
  const submit = h('button.primary', { type: 'submit' }, 'Create environment');
  const form = h('form.card.form', { 'aria-label': 'Create an environment' },
    h('h2', { text: 'Create an environment' }), h('div.field-row', {}, name.el, type.el, pairs.el, driver.el), message, h('div.controls', {}, submit));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    submit.disabled = true;
    message.replaceChildren();
    try {
      const { body } = await request('POST', paths.environments(programId), {
        name: name.input.value.trim(), type: type.input.value, publishCount: Number(pairs.input.value),
        ...(driver.input.value ? { driver: driver.input.value } : {}),
      });
      toast(`Environment ${body.name} is being created`);
      name.input.value = '';
      await onCreated();
    } catch (error) {
      message.replaceChildren(errorBox(error));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** All of a program's environments, or only `environmentId` (#/program/P/environment/E). */
export async function renderEnvironments(main, [programId, environmentId]) {
  const program = await get(paths.program(programId));
  const href = linkOf(program, rel.environments) ?? paths.environments(programId);
  const operate = mayOperate(programId);
  setTitle(`Environments · ${program.name}`);
  const indicator = liveIndicator();
  main.append(h('div.title-row', {}, h('h1', { text: `${program.name}: environments` }), indicator));
  const listBox = h('div');
  const message = h('div', { 'aria-live': 'polite' });
  main.append(message, listBox);
  const sections = new Map();

  function sectionFor(env) {
    let box = sections.get(env.id);
    if (!box) {
      const status = h('span');
      const note = h('p.muted');
      const body = h('div', {}, h('p.muted', { text: 'Loading the topology…' }));
      const links = h('p.env-links');
      const actions = h('div.controls');
      const el = h('section.card.environment', { 'aria-labelledby': `env-${env.id}`, 'data-environment': env.id },
        h('div.title-row', {}, h('h2', { id: `env-${env.id}`, text: `${env.name} (${env.type}${env.driver ? `, ${env.driver === 'containers' ? 'containers' : 'local processes'}` : ''})` }), status), note, links, actions, body);
      box = { el, status, note, body, links, actions, key: '', rollout: undefined, reading: undefined };
      sections.set(env.id, box);
    }
    return box;
  }

  function drawEnvironment(env) {
    const box = sectionFor(env);
    box.status.replaceChildren(badge(env.status));
    box.note.textContent = STATUS_TEXT[env.status] ?? '';
    const sites = [['Author', linkOf(env, `${REL}author`)], ['Publish', linkOf(env, `${REL}publish`)]]
      .filter(([, url]) => url && /^https?:\/\//.test(url));
    box.links.replaceChildren(...sites.flatMap(([label, url]) => [h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, `${label} site`), ' ']),
      h('a', { href: `#/program/${programId}/environment/${env.id}/variables`, 'aria-label': `Variables of ${env.name}` }, 'Variables'));
    if (operate && env.status !== 'deleting' && box.actions.childElementCount === 0) {
      box.actions.append(h('button.danger', {
        type: 'button', 'aria-label': `Delete environment ${env.name}`,
        onClick: async (event) => {
          const button = event.currentTarget;
          const answer = await confirmAct({ title: `Delete ${env.name}`, text: 'Its nodes are stopped and removed. Pipelines that deploy here stop working until they get another target.', confirmLabel: 'Delete environment' });
          if (!answer) return;
          button.disabled = true;
          try {
            await request('DELETE', `/api/program/${encodeURIComponent(programId)}/environment/${encodeURIComponent(env.id)}`);
            toast(`Environment ${env.name} is being deleted`);
            await refresh();
          } catch (error) {
            button.disabled = false;
            message.replaceChildren(errorBox(error));
          }
        },
      }, 'Delete'));
    }
    return box;
  }

  async function refresh() {
    const environments = embedded(await get(href), 'environments').filter((env) => !environmentId || env.id === environmentId);
    message.replaceChildren();
    if (environments.length === 0) {
      sections.clear();
      listBox.replaceChildren(environmentId ? h('p', { text: `Program ${program.name} has no environment ${environmentId}.` })
        : emptyState('No environments yet.', operate ? { text: 'Create an environment', onClick: () => main.querySelector('form input')?.focus() } : undefined));
      return;
    }
    if (!listBox.querySelector('section')) listBox.replaceChildren();
    const seen = new Set(environments.map((e) => e.id));
    for (const [id, box] of sections) if (!seen.has(id)) { box.el.remove(); sections.delete(id); }
    for (const env of environments) {
      const box = drawEnvironment(env);
      if (!box.el.isConnected) listBox.append(box.el);
      if (env.status !== 'ready') {
        box.body.replaceChildren();
        continue;
      }
      await drawTopology(box, env.id);
    }
  }

  /** Reads one environment's topology and draws it; one read at a time, one more if asked meanwhile. */
  async function drawTopology(box, id) {
    if (box.reading) { box.reading.again = true; return box.reading.done; }
    const reading = { again: false };
    box.reading = reading;
    reading.done = (async () => {
      do {
        reading.again = false;
        try {
          box.body.replaceChildren(topologyView(programId, await get(paths.topology(programId, id))));
          showNow(box.body, box.rollout);
        } catch (error) {
          box.body.replaceChildren(error instanceof ApiError && error.status === 409
            ? h('p.muted', { text: error.detail || 'not provisioned yet' }) : errorBox(error));
        }
      } while (reading.again);
      box.reading = undefined;
    })();
    return reading.done;
  }

  /** A deploy step's event: show what each node is doing now; read the topology after a command ends. */
  function onDeploy(type, step) {
    const box = sections.get(step.environmentId);
    if (!box) return;
    const before = nowByNode(box.rollout);
    const ended = type === 'step.ended' || !['RUNNING', 'ROLLING_BACK'].includes(step.status);
    box.rollout = ended ? undefined : step.rollout;
    showNow(box.body, box.rollout);
    const changed = [...nowByNode(step.rollout)].some(([name, c]) => c.status !== 'RUNNING' && CHANGES_TOPOLOGY.has(c.action)
      && (before.get(name)?.action !== c.action || before.get(name)?.status !== c.status));
    if (ended || changed) drawTopology(box, step.environmentId);
  }

  await refresh();
  if (operate && !environmentId) main.append(createForm(programId, refresh));
  const onEvent = (type, data) => {
    if (type === 'environment.changed') return false; // the list itself changed: read it again
    if (data?.step?.action === 'deploy' && data.step.environmentId) onDeploy(type, data.step);
    return true;
  };
  return followProgram(programId, { onEvent, resync: refresh, problem: message, indicator });
}
