// Members of a program and their roles: administrators grant, change (a role select per member,
// one PUT) and revoke; a grant shows the new member's API token once (it is not kept anywhere else in readable form).
import { embedded, get, paths, request } from '../api.js';
import { h } from '../dom.js';
import { selectField, textField } from '../form.js';
import { isAdmin, roleName, roleText } from '../session.js';
import { emptyState, errorBox, setTitle, toast } from '../ui.js';

const ROLES = ['BUSINESS_OWNER', 'DEPLOYMENT_MANAGER', 'PROGRAM_MANAGER', 'DEVELOPER', 'SUPPORT'];

export async function renderMembers(main, [programId]) {
  const program = await get(paths.program(programId));
  const base = `${paths.program(programId)}/members`;
  setTitle(`Members · ${program.name}`);
  main.append(h('h1', { text: `${program.name}: members` }), h('p.muted', { text: `Your role: ${roleText(programId)}` }));
  const message = h('div', { 'aria-live': 'polite' });
  const listBox = h('div');
  main.append(message, listBox);
  const admin = isAdmin();

  const act = async (fn, done) => {
    message.replaceChildren();
    try {
      const out = await fn();
      toast(done);
      await draw();
      return out;
    } catch (error) {
      message.replaceChildren(errorBox(error));
      return undefined;
    }
  };

  /** The member's roles; with several, an administrator can revoke one of them. */
  const roleChips = (m) => m.roles.map((r) => h('span.role-chip', {}, roleName(r), admin && m.roles.length > 1 ? h('button.link', {
    type: 'button', 'aria-label': `Revoke ${roleName(r)} from ${m.user}`,
    onClick: () => act(() => request('DELETE', `${base}/${encodeURIComponent(m.user)}?role=${r}`), `${roleName(r)} revoked from ${m.user}`),
  }, '×') : null));

  /** A role select per member: the change is one request (PUT), the member is never without a role. */
  const roleControl = (m) => {
    const id = `role-${m.user.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const select = h('select', { id, name: id, 'aria-label': `Role of ${m.user}` },
      ROLES.map((r) => h('option', { value: r, selected: r === m.roles[0] }, roleName(r))));
    const change = h('button.secondary', { type: 'button', 'aria-label': `Change the role of ${m.user}` }, 'Change role');
    change.addEventListener('click', () => act(
      () => request('PUT', `${base}/${encodeURIComponent(m.user)}`, { roles: [select.value] }),
      `${m.user} is now ${roleName(select.value)}`,
    ));
    return h('span.inline-field.role-control', {}, select, change);
  };

  async function draw() {
    const members = embedded(await get(base), 'members');
    if (members.length === 0) {
      listBox.replaceChildren(emptyState('No members yet: only administrators can see this program.'));
      return;
    }
    listBox.replaceChildren(h('table.data.responsive', {},
      h('caption.sr-only', { text: 'Members' }),
      h('thead', {}, h('tr', {}, ['Member', 'Roles', admin ? 'Actions' : null].filter(Boolean).map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, members.map((m) => h('tr', { 'data-member': m.user },
        h('th', { scope: 'row', text: m.user }),
        h('td', { 'data-label': 'Roles' }, admin ? roleControl(m) : null, (!admin || m.roles.length > 1) ? roleChips(m) : null),
        admin ? h('td.actions', { 'data-label': 'Actions' }, h('button.danger', {
          type: 'button', 'aria-label': `Remove ${m.user} from the program`,
          onClick: () => act(() => request('DELETE', `${base}/${encodeURIComponent(m.user)}`), `${m.user} removed`),
        }, 'Remove')) : null)))));
  }
  await draw();
  if (!admin) return;

  const user = textField('User name', 'user', '', { required: true, maxlength: '64', pattern: '[A-Za-z0-9._@\\-]+' });
  const role = selectField('Role', 'role', ROLES.map((r) => [r, roleName(r)]), 'DEVELOPER',
    'Business Owner, Deployment Manager and Program Manager operate; Developer reads; Support reads and starts CSE-overseen deployments.');
  const tokenBox = h('div', { 'aria-live': 'polite' });
  const form = h('form.card.form', { 'aria-label': 'Grant a role' },
    h('h2', { text: 'Grant a role' }), h('div.field-row', {}, user.el, role.el),
    h('div.controls', {}, h('button.primary', { type: 'submit' }, 'Grant role')), tokenBox);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const name = user.input.value.trim();
    const out = await act(() => request('POST', base, { user: name, role: role.input.value }), `${roleName(role.input.value)} granted to ${name}`);
    if (out?.body?.token) {
      tokenBox.replaceChildren(h('div.notice.notice-wait', {}, `A new API token for ${name} (shown once): `, h('code.token', { text: out.body.token })));
    }
  });
  main.append(form);
}
