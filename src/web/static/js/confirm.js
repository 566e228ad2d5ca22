// A confirmation for acts that stop or override something (Reject, Stop, Cancel, Override):
// a modal <dialog> that says what will happen, lists what it applies to, and takes an optional
// comment that the server keeps in the step's audit record. Focus returns to the opener.
import { h } from './dom.js';

let seq = 0;

/**
 * Resolves to { comment } when confirmed, undefined when dismissed. `comment: false` leaves the
 * comment out, for acts with no audit record to keep it in.
 */
export function confirmAct({ title, text, items = [], confirmLabel, danger = true, comment: withField = true }) {
  const id = `confirm-${++seq}`;
  const opener = document.activeElement;
  const comment = h('textarea', { id: `${id}-comment`, name: 'comment', rows: '3', maxlength: '500' });
  const ok = h(`button.${danger ? 'danger' : 'primary'}`, { type: 'submit', value: 'ok' }, confirmLabel);
  const back = h('button.secondary', { type: 'submit', value: 'cancel' }, 'Go back');
  const dialog = h('dialog.confirm', { 'aria-labelledby': `${id}-title` },
    h('form', { method: 'dialog' },
      h('h2', { id: `${id}-title`, text: title }),
      h('p', { text }),
      items.length ? h('ul.small', {}, items.map((i) => h('li', { text: i }))) : null,
      withField ? [h('label', { for: `${id}-comment`, text: 'Comment (optional, kept in the audit record)' }), comment] : null,
      h('div.controls', {}, ok, back)));
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const confirmed = dialog.returnValue === 'ok';
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(confirmed ? { comment: comment.value.trim() } : undefined);
    });
    dialog.showModal();
    // Without a comment to write, the safe choice has the focus: Enter does not act.
    (withField ? comment : back).focus();
  });
}

/** The body with the comment added when there is one. */
export const withComment = (body, answer) => (answer?.comment ? { ...body, comment: answer.comment } : body);
