// The UI shell: sign-in, the hash router, the header, the toast, and error display.
import { ApiError, token } from './api.js';
import { clear, h } from './dom.js';
import { loadSession, roleText } from './session.js';
import { errorBox, setTitle } from './ui.js';
import { renderEnvironments } from './views/environments.js';
import { renderExecution } from './views/execution.js';
import { renderHistory } from './views/history.js';
import { renderMembers } from './views/members.js';
import { renderPipelineForm } from './views/pipeline-form.js';
import { renderProgram, renderPrograms } from './views/programs.js';
import { renderVariables } from './views/variables.js';
import { renderWebhooks } from './views/webhooks.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('user');
let cleanup = () => {};

const ROUTES = [
  [/^\/$/, () => renderPrograms],
  [/^\/program\/([^/]+)$/, () => renderProgram],
  [/^\/program\/([^/]+)\/environments$/, () => renderEnvironments],
  [/^\/program\/([^/]+)\/webhooks$/, () => renderWebhooks],
  [/^\/program\/([^/]+)\/members$/, () => renderMembers],
  [/^\/program\/([^/]+)\/pipelines\/new$/, () => renderPipelineForm],
  [/^\/program\/([^/]+)\/pipeline\/([^/]+)\/edit$/, () => renderPipelineForm],
  [/^\/program\/([^/]+)\/(pipeline|environment)\/([^/]+)\/variables$/, () => renderVariables],
  [/^\/program\/([^/]+)\/environment\/([^/]+)$/, () => renderEnvironments], // the API's developerConsole link
  [/^\/program\/([^/]+)\/pipeline\/([^/]+)\/history$/, () => renderHistory],
  [/^\/program\/([^/]+)\/pipeline\/([^/]+)\/execution\/([^/]+)$/, () => renderExecution],
];

function setNav(programId) {
  clear(nav);
  const items = [h('li', {}, h('a', { href: '#/' }, 'Programs'))];
  if (programId) {
    items.push(h('li', {}, h('a', { href: `#/program/${programId}` }, 'Pipelines')));
    items.push(h('li', {}, h('a', { href: `#/program/${programId}/environments` }, 'Environments')));
    items.push(h('li', {}, h('a', { href: `#/program/${programId}/webhooks` }, 'Webhooks')));
    items.push(h('li', {}, h('a', { href: `#/program/${programId}/members` }, 'Members')));
  }
  nav.append(h('ul', {}, items));
  const current = `#${location.hash.slice(1)}`;
  for (const a of nav.querySelectorAll('a')) if (a.getAttribute('href') === current) a.setAttribute('aria-current', 'page');
}

function renderSignIn(message) {
  cleanup();
  cleanup = () => {};
  setTitle('Sign in');
  clear(nav);
  clear(who);
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const form = h('form.card.signin', {
    onSubmit: async (event) => {
      event.preventDefault();
      token.set(input.value.trim());
      await route();
    },
  },
  h('h1', { text: 'Sign in to Slipway' }),
  message ? h('div.alert', { role: 'alert' }, message) : null,
  h('p', { text: 'Paste an API token. The server prints the admin token when it first starts; it is also kept in the data directory (admin-token).' }),
  h('label', { for: 'token', text: 'API token' }), input,
  h('button.primary', { type: 'submit', text: 'Sign in' }));
  clear(main).append(form);
  input.focus();
}

async function route() {
  const hash = location.hash.slice(1);
  if (hash.startsWith('token=')) {
    // A sign-in link: keep the token, then drop it from the address bar and history.
    const params = new URLSearchParams(hash);
    token.set(params.get('token') ?? '');
    history.replaceState(null, '', `#${params.get('to') || '/'}`);
    return route();
  }
  if (hash === 'main') return undefined; // the skip link
  if (!token.get()) return renderSignIn();
  let user;
  try {
    user = await loadSession();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      token.clear();
      return renderSignIn('That token was not accepted. Check it and try again.');
    }
    return showFailure(error);
  }
  const path = (hash || '/').split('?')[0] || '/';
  const match = ROUTES.map(([re, view]) => [re.exec(path), view]).find(([m]) => m);
  const programId = match?.[0][1];
  clear(who).append(
    h('span', {}, h('span.user-name', { text: user.name }), programId || user.admin ? h('span.user-role', { text: roleText(programId) }) : null),
    h('button.link', { type: 'button', onClick: () => { token.clear(); renderSignIn(); } }, 'Sign out'),
  );
  cleanup();
  cleanup = () => {};
  if (!match) {
    setNav();
    setTitle('Not found');
    clear(main).append(h('h1', { text: 'Not found' }), h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Go to the programs.')));
    return undefined;
  }
  const [m, view] = match;
  setNav(m[1]);
  clear(main).append(h('p.muted.loading', { text: 'Loading…' }));
  const loading = main.firstChild;
  const before = document.title;
  try {
    const dispose = await view()(main, m.slice(1).map(decodeURIComponent));
    loading.remove();
    retries = 0;
    cleanup = typeof dispose === 'function' ? dispose : () => {};
    if (document.title === before) setTitle(main.querySelector('h1')?.textContent ?? '');
    // Focus moves to the new page's heading after navigation (not on the first load).
    if (navigated && !main.contains(document.activeElement)) focusHeading();
  } catch (error) {
    loading.remove();
    showFailure(error);
  }
  return undefined;
}

let navigated = false;
let retries = 0;
let retryTimer;

function focusHeading() {
  const heading = main.querySelector('h1');
  if (!heading) return;
  heading.setAttribute('tabindex', '-1');
  heading.focus({ preventScroll: false });
}

/** An error that clears itself: the page retries until the server answers again. */
function showFailure(error) {
  const again = h('button.secondary', { type: 'button', onClick: () => route() }, 'Try again');
  const network = error instanceof ApiError && (error.status === 0 || error.status >= 500);
  setTitle('Error');
  clear(main).append(h('h1', { text: 'This page could not be loaded' }), errorBox(error),
    network ? h('p.muted', { text: 'Retrying by itself…' }) : null, again);
  clearTimeout(retryTimer);
  if (network) retryTimer = setTimeout(() => route(), Math.min(15000, 1000 * 2 ** retries++));
  return undefined;
}

document.getElementById('skip').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => { navigated = true; clearTimeout(retryTimer); route(); });
window.addEventListener('slipway:unauthorized', () => {
  if (!token.get()) return;
  token.clear();
  renderSignIn('Your session ended: the token is no longer accepted.');
});
route();
