// Environments: each one's topology (load balancer → dispatchers → publish, and author), the
// release each node runs, load-balancer membership and cache hit ratio. Refreshes every 2 s
// while this screen is open (a rolling deployment shows as it happens).
import { ApiError, embedded, get, linkOf, paths, rel } from '../api.js';
import { badge, h } from '../dom.js';
import { errorBox } from '../ui.js';

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

function nodeBox(node) {
  const facts = [['Release', node.release?.version ?? 'none']];
  if (node.release?.appImage) facts.push(['App image', digestFact(node.release.appImage)]);
  if (node.release?.dispatcherImage) facts.push(['Dispatcher image', digestFact(node.release.dispatcherImage)]);
  facts.push(['URL', node.url]);
  if (node.lbState) facts.push(['Load balancer', node.lbState]);
  const ratio = hitRatio(node.cache);
  if (ratio) facts.push(['Cache', ratio]);
  return h(`li.node.node-${node.healthy ? 'up' : 'down'}`, { 'data-node': node.name },
    h('div.node-head', {}, h('strong', { text: node.name }), ' ',
      h(`span.badge.badge-${node.healthy ? 'ok' : 'bad'}`, { text: node.healthy ? 'healthy' : 'down' })),
    h('dl.facts', {}, facts.map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)])));
}

function topologyView(view) {
  const pairs = view.dispatchers.map((d, i) => h('li.pair', {},
    h('ul.tier', { 'aria-label': `Pair ${i + 1}` }, nodeBox(d), view.publish[i] ? nodeBox(view.publish[i]) : null)));
  return h('div.topology', {},
    h('div.tier-row', {}, h('h3', { text: 'Load balancer' }), h('ul.tier', {}, nodeBox(view.loadBalancer))),
    h('div.tier-row', {}, h('h3', { text: 'Dispatcher → publish pairs' }), h('ol.pairs', {}, pairs)),
    h('div.tier-row', {}, h('h3', { text: 'Author' }), h('ul.tier', {}, nodeBox(view.author))));
}

/** All of a program's environments, or only `environmentId` (#/program/P/environment/E). */
export async function renderEnvironments(main, [programId, environmentId]) {
  const program = await get(paths.program(programId));
  const href = linkOf(program, rel.environments) ?? paths.environments(programId);
  const environments = embedded(await get(href), 'environments').filter((env) => !environmentId || env.id === environmentId);
  main.append(h('h1', { text: `${program.name}: environments` }));
  if (environments.length === 0) {
    main.append(h('p', { text: environmentId ? `Program ${program.name} has no environment ${environmentId}.`
      : 'No environments yet (POST /api/program/:id/environments).' }));
    return undefined;
  }
  const boxes = environments.map((env) => {
    const body = h('div', {}, h('p.muted', { text: 'Loading the topology…' }));
    const section = h('section.card.environment', { 'aria-labelledby': `env-${env.id}` },
      h('div.title-row', {}, h('h2', { id: `env-${env.id}`, text: `${env.name} (${env.type})` }), badge(env.status)),
      body);
    main.append(section);
    return { env, body };
  });
  let stopped = false;
  const refresh = async () => {
    for (const { env, body } of boxes) {
      try {
        body.replaceChildren(topologyView(await get(paths.topology(programId, env.id))));
      } catch (error) {
        body.replaceChildren(error instanceof ApiError && error.status === 409
          ? h('p.muted', { text: error.detail || 'not provisioned yet' }) : errorBox(error));
      }
    }
  };
  const loop = async () => {
    while (!stopped) {
      await refresh();
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  loop();
  return () => { stopped = true; };
}
