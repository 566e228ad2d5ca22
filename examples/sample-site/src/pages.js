// The site's pages and the store that keeps them. Built-in pages are trusted HTML; edits made
// through the author endpoints are plain text and kept in memory, and in APP_DATA_DIR if set.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderContactForm } from './contact.js';
import { textToParagraphs } from './render.js';

export const DEFAULT_PAGES = [
  {
    name: 'home',
    path: '/',
    title: 'Home',
    description: 'Harbour Outfitters sells durable sailing and harbour gear, made to last for seasons.',
    heading: 'Welcome to Harbour Outfitters',
    scripts: [],
    bodyHtml: `<p class="lead">Gear for people who work and play on the water.</p>
<img class="hero" src="/assets/harbour.svg" alt="Sailing boats moored in a calm harbour at sunrise" width="640" height="320">
<p>From waterproof jackets to hand-spliced ropes, everything we sell is tested on our own boats first.</p>
<p><a class="button" href="/products.html">Browse our products</a></p>`,
  },
  {
    name: 'about',
    path: '/about.html',
    title: 'About us',
    description: 'Who we are: a small crew of sailors running Harbour Outfitters since 1998.',
    heading: 'About Harbour Outfitters',
    scripts: [],
    bodyHtml: `<p>We started as a repair shop on the old quay in 1998.</p>
<p>Today a crew of twelve designs, tests and ships our gear, and still repairs anything we sell.</p>`,
  },
  {
    name: 'products',
    path: '/products.html',
    title: 'Products',
    description: 'Our range: foul-weather jackets, deck shoes, ropes and dry bags, tested on the water.',
    heading: 'Our products',
    scripts: [],
    bodyHtml: `<ul class="products">
<li><h2>Foul-weather jacket</h2><p>Three-layer shell, taped seams, high collar. EUR 240.</p></li>
<li><h2>Deck shoes</h2><p>Siped rubber soles that grip a wet deck. EUR 95.</p></li>
<li><h2>Braided rope, 10 mm</h2><p>Polyester double braid, sold by the metre. EUR 3.</p></li>
<li><h2>Dry bag, 20 L</h2><p>Roll-top closure, welded seams. EUR 35.</p></li>
</ul>`,
  },
  {
    name: 'contact',
    path: '/contact.html',
    title: 'Contact',
    description: 'Send Harbour Outfitters a message: questions about products, orders or repairs.',
    heading: 'Contact us',
    scripts: [],
    bodyHtml: `<p>Questions about an order or a repair? Send us a message and we answer within a day.</p>
${renderContactForm({}, {})}`,
  },
];

const PAGE_NAME = /^[a-z][a-z0-9-]{0,40}$/;
const EDITABLE_FIELDS = ['title', 'description', 'heading', 'text'];

/**
 * Checks an author edit. Returns the accepted fields or a list of problems.
 * @param {unknown} edit
 */
export function validatePageEdit(edit) {
  if (typeof edit !== 'object' || edit === null || Array.isArray(edit)) {
    return { ok: false, errors: ['the body must be a JSON object'] };
  }
  const errors = [];
  const fields = new Map();
  for (const [key, value] of Object.entries(edit)) {
    if (!EDITABLE_FIELDS.includes(key)) errors.push(`unknown field "${key}"`);
    else if (typeof value !== 'string' || value.trim() === '') errors.push(`"${key}" must be a non-empty string`);
    else if (value.length > 20_000) errors.push(`"${key}" is too long`);
    else fields.set(key, value.trim());
  }
  if (errors.length === 0 && fields.size === 0) errors.push('nothing to change');
  return errors.length > 0 ? { ok: false, errors } : { ok: true, fields: Object.fromEntries(fields) };
}

/** Applies accepted edit fields to a page; `text` replaces the body with escaped paragraphs. */
export function applyEdit(page, fields) {
  const next = { ...page };
  if (fields.title) next.title = fields.title;
  if (fields.description) next.description = fields.description;
  if (fields.heading) next.heading = fields.heading;
  if (fields.text) next.bodyHtml = textToParagraphs(fields.text);
  return next;
}

/** @param {{ dataDir?: string, pages?: typeof DEFAULT_PAGES }} [options] */
export function createPageStore(options = {}) {
  const pages = new Map((options.pages ?? DEFAULT_PAGES).map((p) => [p.name, { ...p }]));
  // Every accepted edit, by page name; replayed over the built-in pages at start.
  const edits = new Map(options.dataDir ? Object.entries(loadEdits(options.dataDir)) : []);
  for (const [name, fields] of edits) {
    const page = pages.get(name);
    const checked = validatePageEdit(fields);
    if (page && checked.ok) pages.set(name, applyEdit(page, checked.fields));
  }

  return {
    list: () => [...pages.values()],
    get: (name) => pages.get(name),
    byPath: (path) => [...pages.values()].find((p) => p.path === path),
    /** Returns the edited page, or undefined when there is no such page. */
    edit(name, fields) {
      const page = PAGE_NAME.test(name) ? pages.get(name) : undefined;
      if (!page) return undefined;
      const next = applyEdit(page, fields);
      pages.set(name, next);
      edits.set(name, { ...edits.get(name), ...fields });
      if (options.dataDir) saveEdits(options.dataDir, Object.fromEntries(edits));
      return next;
    },
  };
}

const EDITS_FILE = 'page-edits.json';

function loadEdits(dataDir) {
  try {
    return JSON.parse(readFileSync(join(dataDir, EDITS_FILE), 'utf8'));
  } catch {
    return {}; // no edits saved yet
  }
}

function saveEdits(dataDir, edits) {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, EDITS_FILE), `${JSON.stringify(edits, null, 2)}\n`);
}
