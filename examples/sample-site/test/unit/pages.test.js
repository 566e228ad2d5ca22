import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_PAGES, createPageStore, validatePageEdit } from '../../src/pages.js';

test('every page has a unique path, a title and a description', () => {
  const paths = DEFAULT_PAGES.map((p) => p.path);
  assert.equal(new Set(paths).size, paths.length);
  for (const page of DEFAULT_PAGES) {
    assert.ok(page.title.length > 0 && page.description.length >= 50, page.name);
  }
});

test('validatePageEdit accepts known string fields only', () => {
  assert.deepEqual(validatePageEdit({ heading: ' New ' }), { ok: true, fields: { heading: 'New' } });
  assert.equal(validatePageEdit(null).ok, false);
  assert.equal(validatePageEdit([]).ok, false);
  assert.equal(validatePageEdit({}).ok, false);
  assert.deepEqual(validatePageEdit({ colour: 'red', title: 3 }).errors,
    ['unknown field "colour"', '"title" must be a non-empty string']);
  assert.deepEqual(validatePageEdit({ text: 'x'.repeat(20_001) }).errors, ['"text" is too long']);
});

test('the store edits pages in memory', () => {
  const store = createPageStore();
  const page = store.edit('about', { heading: 'Our story', text: 'Line <one>\n\nLine two' });
  assert.equal(page?.heading, 'Our story');
  assert.equal(store.byPath('/about.html')?.bodyHtml, '<p>Line &lt;one&gt;</p>\n<p>Line two</p>');
  assert.equal(store.edit('nope', { heading: 'x' }), undefined);
  assert.equal(store.edit('../etc', { heading: 'x' }), undefined);
  assert.equal(createPageStore().get('about')?.heading, 'About Harbour Outfitters', 'stores are independent');
});

test('the store keeps edits in the data directory', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sample-pages-'));
  try {
    createPageStore({ dataDir }).edit('products', { title: 'Shop', description: 'All we sell, in one list for you.' });
    assert.equal(JSON.parse(readFileSync(join(dataDir, 'page-edits.json'), 'utf8')).products.title, 'Shop');
    assert.equal(createPageStore({ dataDir }).get('products')?.title, 'Shop');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
