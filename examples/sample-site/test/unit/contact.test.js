import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEmailAddress, parseForm, renderContactForm, validateContact } from '../../src/contact.js';

test('parseForm reads and trims the three fields', () => {
  assert.deepEqual(parseForm('name=+Ann+&email=ann%40example.com&message=Hello%21&extra=1'),
    { name: 'Ann', email: 'ann@example.com', message: 'Hello!' });
  assert.deepEqual(parseForm(''), { name: '', email: '', message: '' });
});

test('validateContact accepts a complete message', () => {
  assert.deepEqual(validateContact({ name: 'Ann', email: 'ann@example.com', message: 'Hi' }), {});
});

test('validateContact reports each problem', () => {
  const errors = validateContact({ name: '', email: 'not-an-email', message: '' });
  assert.deepEqual(Object.keys(errors).sort(), ['email', 'message', 'name']);
  const long = validateContact({ name: 'x'.repeat(101), email: 'a@b.co', message: 'm' });
  assert.match(long.name, /under 100/);
});

test('renderContactForm labels every field and marks errors', () => {
  const html = renderContactForm({ name: '<Ann>' }, { email: 'Bad email' });
  for (const id of ['name', 'email', 'message']) assert.match(html, new RegExp(`<label for="${id}">`));
  assert.match(html, /value="&lt;Ann&gt;"/);
  assert.match(html, /aria-invalid="true" aria-describedby="email-error"/);
  assert.match(html, /<p class="error" id="email-error">Bad email<\/p>/);
});

test('isEmailAddress accepts plain addresses only', () => {
  for (const ok of ['a@b.co', 'first.last@mail.example.org']) assert.equal(isEmailAddress(ok), true, ok);
  for (const bad of ['', 'a', '@b.co', 'a@b', 'a@@b.co', 'a@b@c.co', 'a b@c.co', 'a@.co', 'a@b.']) {
    assert.equal(isEmailAddress(bad), false, bad);
  }
});
