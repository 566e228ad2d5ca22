import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml, renderPage, textToParagraphs } from '../../src/render.js';

test('escapeHtml escapes the five HTML-special characters', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('textToParagraphs splits on blank lines and escapes', () => {
  assert.equal(textToParagraphs('one\n\n  <two>  \n\n\n'), '<p>one</p>\n<p>&lt;two&gt;</p>');
});

test('renderPage produces an accessible document', () => {
  const html = renderPage({
    path: '/about.html', title: 'About <us>', description: 'Desc "q"', heading: 'Hi', bodyHtml: '<p>b</p>',
  }, { version: '1.2.3' });
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /<html lang="en">/);
  assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  assert.match(html, /<title>About &lt;us&gt; \| Harbour Outfitters<\/title>/);
  assert.match(html, /<meta name="description" content="Desc &quot;q&quot;">/);
  assert.match(html, /<a href="\/about.html" aria-current="page">About<\/a>/);
  assert.match(html, /<img [^>]*alt="[^"]+"/);
  assert.match(html, /Release <span class="version">1.2.3<\/span>/);
  assert.doesNotMatch(html, /<script/);
});

test('renderPage adds page scripts', () => {
  const html = renderPage({ path: '/', title: 't', description: 'd', heading: 'h', bodyHtml: '', scripts: ['/assets/x.js'] },
    { version: '1' });
  assert.match(html, /<script src="\/assets\/x.js"><\/script>/);
});
