// The contact form: rendering, parsing the urlencoded body, validation.
import { escapeHtml } from './render.js';

const FIELDS = [
  { name: 'name', max: 100, missing: 'Please enter your name.' },
  { name: 'email', max: 200, missing: 'Please enter a valid email address.' },
  { name: 'message', max: 5000, missing: 'Please enter a message.' },
];

/** local@domain.tld, one "@", no spaces; deliberately simple (the mail server has the last word). */
export function isEmailAddress(text) {
  const at = text.indexOf('@');
  const domain = text.slice(at + 1);
  return at > 0 && at === text.lastIndexOf('@') && !/\s/.test(text)
    && domain.includes('.') && !domain.startsWith('.') && !domain.endsWith('.');
}

/** @param {string} body application/x-www-form-urlencoded */
export function parseForm(body) {
  const params = new URLSearchParams(body);
  return {
    name: (params.get('name') ?? '').trim(),
    email: (params.get('email') ?? '').trim(),
    message: (params.get('message') ?? '').trim(),
  };
}

/**
 * @param {{ name: string, email: string, message: string }} fields
 * @returns {Record<string, string>} a message per invalid field; empty when all is well
 */
export function validateContact(fields) {
  const values = new Map(Object.entries(fields));
  const errors = new Map();
  for (const field of FIELDS) {
    const value = values.get(field.name) ?? '';
    const invalid = field.name === 'email' ? !isEmailAddress(value) : value === '';
    if (invalid) errors.set(field.name, field.missing);
    else if (value.length > field.max) errors.set(field.name, `Please keep this under ${field.max} characters.`);
  }
  return Object.fromEntries(errors);
}

/**
 * @param {Partial<Record<'name'|'email'|'message', string>>} values
 * @param {Partial<Record<'name'|'email'|'message', string>>} errors
 */
export function renderContactForm(values, errors) {
  const valueOf = new Map(Object.entries(values));
  const errorOf = new Map(Object.entries(errors));
  const v = (field) => escapeHtml(valueOf.get(field) ?? '');
  const describedBy = (field) => (errorOf.has(field) ? ` aria-invalid="true" aria-describedby="${field}-error"` : '');
  const error = (field) =>
    (errorOf.has(field) ? `<p class="error" id="${field}-error">${escapeHtml(errorOf.get(field))}</p>\n` : '');
  return `<form class="contact" id="contact-form" method="post" action="/contact">
<label for="name">Name</label>
<input id="name" name="name" type="text" autocomplete="name" required value="${v('name')}"${describedBy('name')}>
${error('name')}<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="email" required value="${v('email')}"${describedBy('email')}>
${error('email')}<label for="message">Message</label>
<textarea id="message" name="message" rows="5" required${describedBy('message')}>${v('message')}</textarea>
${error('message')}<button type="submit">Send message</button>
</form>`;
}
