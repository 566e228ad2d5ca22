// Form fields with their labels (every input named for screen readers), and reading them back.
import { h } from './dom.js';

let seq = 0;
const idFor = (name) => `f-${name}-${++seq}`;

/** A labelled field: { el (the wrapper), input }. `hint` is tied to the input by aria-describedby. */
export function field(label, input, hint) {
  const id = input.id || idFor(input.name || 'x');
  input.id = id;
  const hintEl = hint ? h('span.hint', { id: `${id}-hint`, text: hint }) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return { input, el: h('div.field', {}, h('label', { for: id, text: label }), input, hintEl) };
}

export function textField(label, name, value = '', attrs = {}, hint) {
  return field(label, h('input', { name, value, type: 'text', autocomplete: 'off', ...attrs }), hint);
}

/** options: [[value, text], …] */
export function selectField(label, name, options, value, hint) {
  const select = h('select', { name }, options.map(([v, t]) => h('option', { value: v, selected: String(v) === String(value) }, t)));
  return field(label, select, hint);
}

export function checkField(label, name, checked, hint) {
  const input = h('input', { type: 'checkbox', name, checked: Boolean(checked) });
  const id = idFor(name);
  input.id = id;
  const hintEl = hint ? h('span.hint', { id: `${id}-hint`, text: hint }) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return { input, el: h('div.field.check', {}, input, h('label', { for: id, text: label }), hintEl) };
}
