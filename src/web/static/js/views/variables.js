// Variables and secrets of a pipeline or an environment, per service (as Cloud Manager's
// environment configuration): secret values are never shown (the API does not return them) and
// are write-only here; a change is sent as the one variable it touches (an empty value deletes).
import { embedded, get, paths, request } from '../api.js';
import { h } from '../dom.js';
import { selectField, textField } from '../form.js';
import { mayOperate } from '../session.js';
import { emptyState, errorBox, setTitle, toast } from '../ui.js';

const SERVICES = {
  pipeline: [['', 'all steps'], ['build', 'build'], ['functionalTest', 'functional tests'], ['uiTest', 'UI tests'], ['loadTest', 'load test']],
  environment: [['', 'all services'], ['author', 'author'], ['publish', 'publish'], ['preview', 'preview']],
};

export async function renderVariables(main, [programId, kind, ownerId]) {
  const ownerHref = kind === 'pipeline' ? paths.pipeline(programId, ownerId) : `/api/program/${encodeURIComponent(programId)}/environment/${encodeURIComponent(ownerId)}`;
  const href = `${ownerHref}/variables`;
  const owner = await get(ownerHref);
  const operate = mayOperate(programId);
  const title = `Variables of ${owner.name}`;
  setTitle(title);
  const back = kind === 'pipeline' ? h('a', { href: `#/program/${programId}` }, 'Pipelines') : h('a', { href: `#/program/${programId}/environments` }, 'Environments');
  main.append(h('p.crumbs', {}, back), h('h1', { text: title }),
    h('p.muted', { text: kind === 'pipeline' ? 'Build and test steps of this pipeline see these as environment variables.' : 'The nodes of this environment see these at their next deployment.' }));
  const listBox = h('div');
  const message = h('div', { 'aria-live': 'polite' });
  main.append(message, listBox);

  const send = async (variable, done) => {
    message.replaceChildren();
    try {
      await request('PATCH', href, [variable]);
      toast(done);
      await draw();
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  };

  async function draw() {
    const vars = embedded(await get(href), 'variables');
    if (vars.length === 0) {
      listBox.replaceChildren(emptyState('No variables yet.'));
      return;
    }
    listBox.replaceChildren(h('table.data.responsive', {},
      h('caption.sr-only', { text: title }),
      h('thead', {}, h('tr', {}, ['Name', 'Service', 'Type', 'Value', operate ? 'Actions' : null].filter(Boolean).map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, vars.map((v) => h('tr', { 'data-variable': v.name },
        h('th', { scope: 'row' }, h('code', { text: v.name })),
        h('td', { 'data-label': 'Service', text: v.service ?? 'all' }),
        h('td', { 'data-label': 'Type', text: v.type === 'secretString' ? 'secret' : 'plain' }),
        h('td', { 'data-label': 'Value' }, v.type === 'secretString' ? h('span.muted', { text: '•••••• (write-only)' }) : h('code', { text: v.value ?? '' })),
        operate ? h('td.actions', { 'data-label': 'Actions' }, h('button.danger', {
          type: 'button', 'aria-label': `Delete ${v.name}${v.service ? ` (${v.service})` : ''}`,
          onClick: () => send({ name: v.name, value: '', type: v.type, ...(v.service ? { service: v.service } : {}) }, `${v.name} deleted`),
        }, 'Delete')) : null)))));
  }
  await draw();
  if (!operate) return;

  const name = textField('Name', 'name', '', { required: true, pattern: '[A-Za-z_][A-Za-z_0-9]*', maxlength: '100' }, 'Letters, digits and _; not starting with a digit.');
  const value = textField('Value', 'value', '', { required: true, maxlength: '2048' });
  const type = selectField('Type', 'type', [['string', 'Plain'], ['secretString', 'Secret (masked, write-only)']], 'string');
  const service = selectField('Service', 'service', SERVICES[kind], '');
  type.input.addEventListener('change', () => {
    value.input.type = type.input.value === 'secretString' ? 'password' : 'text';
    value.input.autocomplete = type.input.value === 'secretString' ? 'new-password' : 'off';
  });
  const form = h('form.card.form', { 'aria-label': 'Add or change a variable' },
    h('h2', { text: 'Add or change a variable' }),
    h('div.field-row', {}, name.el, value.el, type.el, service.el),
    h('div.controls', {}, h('button.primary', { type: 'submit' }, 'Save variable')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    await send({ name: name.input.value.trim(), value: value.input.value, type: type.input.value, ...(service.input.value ? { service: service.input.value } : {}) },
      `${name.input.value.trim()} saved`);
    // A secret leaves the page as soon as it is sent.
    value.input.value = '';
  });
  main.append(form);
}
