// What a step produced, from what the API holds: test totals and the failed tests (unit,
// functional, UI), the code-scanning summary and its issue list, UI-test screenshots and the
// step's artifacts as downloads (signed, expiring URLs fetched when clicked).
import { embedded, get, linkOf, request } from './api.js';
import { h } from './dom.js';

const KINDS = { build: 'Unit tests', functionalTest: 'Functional tests', uiTest: 'UI tests' };
const ISSUE_TYPES = { VULNERABILITY: 'Vulnerability', BUG: 'Bug', CODE_SMELL: 'Code smell' };

function testsView(kind, t) {
  const total = t.total ?? t.tests ?? 0;
  const failed = (t.failures ?? 0) + (t.errors ?? 0);
  const passed = Math.max(0, total - failed - (t.skipped ?? 0));
  const list = Array.isArray(t.failed) && t.failed.length
    ? h('ul.small.failed-tests', {}, t.failed.slice(0, 50).map((f) => h('li', {}, h('strong', { text: `${f.suite ? `${f.suite} › ` : ''}${f.name}` }), `: ${f.message}`)))
    : null;
  return h('div.evidence-tests', {}, h('p.small', {}, h('strong', { text: `${kind}: ` }),
    `${total} run, ${passed} passed, ${failed} failed, ${t.skipped ?? 0} skipped`), list);
}

/** A signed download URL, asked for when the link is used (it expires). */
async function download(href) {
  const { body } = await request('GET', href);
  return body.redirect;
}

function artifactLink(a) {
  const link = h('a', { href: '#', download: a.file }, a.file);
  link.addEventListener('click', async (event) => {
    event.preventDefault();
    const url = await download(linkOf(a, 'self'));
    const go = h('a', { href: url, download: a.file });
    document.body.append(go);
    go.click();
    go.remove();
  });
  return h('li', {}, link, h('span.muted.small', { text: ` ${a.type.toLowerCase().replaceAll('_', ' ')}, ${Math.max(1, Math.round(a.size / 1024))} KiB` }));
}

async function issuesTable(artifact) {
  const issues = await (await fetch(await download(linkOf(artifact, 'self')))).json();
  if (!Array.isArray(issues) || issues.length === 0) return h('p.muted.small', { text: 'No issues.' });
  return h('div.table-scroll', {}, h('table.data.compact', {},
    h('caption.sr-only', { text: 'Code scanning issues' }),
    h('thead', {}, h('tr', {}, ['Type', 'Severity', 'Where', 'Rule', 'Message'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, issues.slice(0, 500).map((i) => h('tr', {},
      h('td', { text: ISSUE_TYPES[i.type] ?? i.type }), h('td', { text: i.severity }),
      h('th', { scope: 'row' }, h('code', { text: `${i.file}:${i.line}` })), h('td', { text: i.rule }), h('td', { text: i.message }))))));
}

/** The evidence of an ended step (nothing for a step that has not run). */
export async function evidenceOf(step) {
  const out = [];
  const t = step.details?.tests;
  if (t && KINDS[step.action]) out.push(testsView(KINDS[step.action], t));
  const scan = step.details?.scan;
  if (scan) {
    out.push(h('p.small', { text: `Scanned ${scan.files} files (${scan.linesOfCode} lines of code): ${scan.issues} issues — ${scan.vulnerabilities} vulnerabilities, ${scan.bugs} bugs, ${scan.codeSmells} code smells; coverage ${Number(scan.coverage?.coverage ?? 0).toFixed(1)} %, duplicated lines ${Number(scan.duplicatedLinesDensity ?? 0).toFixed(1)} %.` }));
  }
  const self = linkOf(step, 'self');
  if (!self || !step.ended) return out;
  const artifacts = embedded(await get(`${self}/artifacts`), 'artifacts');
  const issues = artifacts.find((a) => a.type === 'SCAN_ISSUES');
  if (issues) {
    const box = h('div');
    const details = h('details.issues', {}, h('summary', { text: `Issues (${scan?.issues ?? 'list'})` }), box);
    details.addEventListener('toggle', () => {
      if (details.open && !box.firstChild) issuesTable(issues).then((el) => box.replaceChildren(el), (error) => box.replaceChildren(h('p.alert', { text: error.message })));
    }, { once: false });
    out.push(details);
  }
  const shots = artifacts.filter((a) => a.type === 'UI_TEST_SCREENSHOT');
  if (shots.length) {
    const gallery = h('ul.screenshots');
    out.push(h('details', {}, h('summary', { text: `Screenshots (${shots.length})` }), gallery));
    Promise.all(shots.map(async (a) => h('li', {}, h('figure', {}, h('img', { src: await download(linkOf(a, 'self')), alt: `UI test screenshot ${a.file}`, loading: 'lazy' }), h('figcaption.small', { text: a.file })))))
      .then((items) => gallery.replaceChildren(...items)).catch(() => undefined);
  }
  if (artifacts.length) out.push(h('details', {}, h('summary', { text: `Downloads (${artifacts.length})` }), h('ul.small.downloads', {}, artifacts.map(artifactLink))));
  return out;
}
