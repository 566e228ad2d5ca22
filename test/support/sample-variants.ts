// Variants of the sample site: each one changes a copy of examples/sample-site so that one
// pipeline step fails or changes, the way a real commit would. Every edit checks that the text
// it replaces is there, so a drift in the sample site breaks loudly here, not silently later.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const SAMPLE_VARIANTS = [
  'default',
  'failingUnitTest',
  'lowCoverage',
  'vulnerability',
  'brokenHealth',
  'failingFunctionalTest',
  'failingUiTest',
  'noUiTests',
  'heavierPage',
  'insecure',
  'newVersion',
  'otherHealthPath',
  'staticSite',
] as const;

export type SampleVariant = (typeof SAMPLE_VARIANTS)[number];

async function replaceInFile(dir: string, file: string, from: string, to: string): Promise<void> {
  const path = join(dir, file);
  const text = await readFile(path, 'utf8');
  if (!text.includes(from)) throw new Error(`sample variant: "${from.slice(0, 60)}" not found in ${file}`);
  await writeFile(path, text.split(from).join(to));
}

/** A deterministic pseudo-random generator (mulberry32), so generated files are reproducible. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A unit test for a product the site does not list: `npm test` fails. */
async function failingUnitTest(dir: string): Promise<void> {
  await writeFile(join(dir, 'test/unit/catalogue.test.js'), `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PAGES } from '../../src/pages.js';

test('the products page lists the new life jacket', () => {
  const products = DEFAULT_PAGES.find((page) => page.name === 'products');
  assert.match(products?.bodyHtml ?? '', /Life jacket/);
});
`);
}

/** About 1,700 lines of loaded but never-called code: line coverage of src/ drops below 50%. */
async function lowCoverage(dir: string): Promise<void> {
  const next = seeded(42);
  const parts = ['// Export formats of the old shop system, kept for a migration that never happened.'];
  for (let i = 0; i < 120; i++) {
    const digits = Math.floor(next() * 4);
    const factor = (1 + next() * 9).toFixed(3);
    parts.push(`
export function exportFormat${i}(record${i}, options${i} = {}) {
  if (!record${i}) return options${i}.fallback${i} ?? null;
  const entries${i} = Object.entries(record${i}).sort(([a${i}], [b${i}]) => a${i}.localeCompare(b${i}));
  let line${i} = '';
  for (const [key${i}, value${i}] of entries${i}) {
    if (typeof value${i} === 'number') line${i} += \`\${key${i}}=\${(value${i} * ${factor}).toFixed(${digits})};\`;
    else if (Array.isArray(value${i})) line${i} += \`\${key${i}}=[\${value${i}.length}:${i}];\`;
    else if (value${i} && typeof value${i} === 'object') line${i} += \`\${key${i}}={${i}};\`;
    else line${i} += \`\${key${i}}=\${String(value${i}).slice(0, ${10 + i})};\`;
  }
  return options${i}.upper${i} ? line${i}.toUpperCase() : line${i};
}`);
  }
  await writeFile(join(dir, 'src/legacy-export.js'), `${parts.join('\n')}\n`);
  // Re-exported from the app module so the unit tests load it (Node only measures loaded files).
  await replaceInFile(dir, 'src/app.js', "const MAX_BODY_BYTES = 64 * 1024;",
    "export * as legacyExport from './legacy-export.js';\n\nconst MAX_BODY_BYTES = 64 * 1024;");
}

/** Command injection, eval of request input and a hard-coded password: security findings. */
async function vulnerability(dir: string): Promise<void> {
  await writeFile(join(dir, 'src/diagnostics.js'), `// Support diagnostics for the shop's back office.
import { exec } from 'node:child_process';

const adminPassword = 'Qx7!harbourK3y9';

export function isAdmin(password) {
  return password === adminPassword;
}

export function ping(req, res) {
  const host = new URL(req.url, 'http://localhost').searchParams.get('host');
  exec('ping -c 1 ' + host, (error, stdout) => res.end(error ? String(error) : stdout));
}

export function calculate(req) {
  const expression = new URL(req.url, 'http://localhost').searchParams.get('expr');
  return eval(expression);
}
`);
  await replaceInFile(dir, 'src/app.js', "const MAX_BODY_BYTES = 64 * 1024;",
    "export * as diagnostics from './diagnostics.js';\n\nconst MAX_BODY_BYTES = 64 * 1024;");
}

/** A health check of a database the app does not have: /health answers 500 (unit tests pass). */
async function brokenHealth(dir: string): Promise<void> {
  await replaceInFile(dir, 'src/server.js', 'const healthChecks = [\n', `const healthChecks = [
  function database() {
    return { name: 'database', ok: false, detail: 'connect ECONNREFUSED 127.0.0.1:5432' };
  },
`);
}

/** A functional test for a sitemap the site does not publish. */
async function failingFunctionalTest(dir: string): Promise<void> {
  await replaceInFile(dir, 'tests/functional/run.mjs', "  ['unknown pages answer 404', async () => {", `  ['sitemap is published', async () => {
    assert.equal((await get(\`\${publishUrl}/sitemap.xml\`)).status, 200);
  }],
  ['unknown pages answer 404', async () => {`);
}

/** The UI test expects another heading; it records the failure in JUnit but exits 0. */
async function failingUiTest(dir: string): Promise<void> {
  await replaceInFile(dir, 'tests/ui/run.mjs', "'Welcome to Harbour Outfitters');", "'Welcome aboard, sailor!');");
  await replaceInFile(dir, 'tests/ui/run.mjs', 'process.exitCode = failed > 0 ? 1 : 0;',
    'process.exitCode = 0; // the result is read from the JUnit report');
}

async function noUiTests(dir: string): Promise<void> {
  await rm(join(dir, 'tests/ui/testing.properties'));
}

/** A 1.5 MB render-blocking script that also busies the main thread, and a 1.2 MB image. */
async function heavierPage(dir: string): Promise<void> {
  const next = seeded(7);
  const chunk = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 36).toString(36)).join('');
  const data = Array.from({ length: 1500 }, () => `"${chunk(1000)}"`).join(',\n');
  await writeFile(join(dir, 'public/assets/vendor-bundle.js'), `// Third-party widget bundle (everything, unminified).
var WIDGET_DATA = [
${data}
];
(function warmUp() {
  var until = Date.now() + 1500;
  var n = 0;
  while (Date.now() < until) n += WIDGET_DATA[n % WIDGET_DATA.length].length;
  window.widgetChecksum = n;
})();
`);
  const circles = Array.from({ length: 18000 }, () =>
    `<circle cx="${(next() * 4000).toFixed(2)}" cy="${(next() * 2000).toFixed(2)}" r="${(1 + next() * 30).toFixed(2)}" fill="#${Math.floor(next() * 0xffffff).toString(16).padStart(6, '0')}"/>`);
  await writeFile(join(dir, 'public/assets/panorama.svg'),
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4000 2000" width="4000" height="2000">\n${circles.join('\n')}\n</svg>\n`);
  await replaceInFile(dir, 'src/pages.js', "heading: 'Welcome to Harbour Outfitters',\n    scripts: [],",
    "heading: 'Welcome to Harbour Outfitters',\n    scripts: ['/assets/vendor-bundle.js'],");
  await replaceInFile(dir, 'src/pages.js', '<p>From waterproof jackets',
    '<img src="/assets/panorama.svg" alt="A panorama of the harbour at night" width="4000" height="2000">\n<p>From waterproof jackets');
}

/** No X-Content-Type-Options, an unauthenticated /admin on publish, no dispatcher deny for it. */
async function insecure(dir: string): Promise<void> {
  await replaceInFile(dir, 'src/headers.js', "  'X-Content-Type-Options': 'nosniff',\n", '');
  await replaceInFile(dir, 'src/app.js', "    if (path === '/author' || path.startsWith('/author/')) {",
    `    if (path === '/admin' || path.startsWith('/admin/')) {
      return sendJson(res, 200, { mode, version, pid: process.pid, node: process.version, pages: pages.list().map((p) => p.name) });
    }
    if (path === '/author' || path.startsWith('/author/')) {`);
  await replaceInFile(dir, 'dispatcher/dispatcher.yaml', "  - '^/admin'\n", '');
}

/** Version 1.1.0 instead of 1.0.0 (what the app reports when APP_VERSION is unset). */
async function newVersion(dir: string): Promise<void> {
  await replaceInFile(dir, 'package.json', '"version": "1.0.0"', '"version": "1.1.0"');
  await replaceInFile(dir, 'package-lock.json', '"version": "1.0.0"', '"version": "1.1.0"');
}

/** The health check answers on /status/ready, and /health is an unknown page (404). */
async function otherHealthPath(dir: string): Promise<void> {
  await replaceInFile(dir, 'src/app.js', "if (path === '/health') return handleHealth(req, res);",
    "if (path === '/status/ready') return handleHealth(req, res);");
  await replaceInFile(dir, 'slipway.yaml', '  health: /health\n', '  health: /status/ready\n');
}

/**
 * Not a Node app: the build also exports a static copy of the site into dist/site, and the image
 * is the `static` base (busybox) serving it with `httpd` on $PORT.
 */
async function staticSite(dir: string): Promise<void> {
  await replaceInFile(dir, 'scripts/build.mjs', "console.log('dist/ ready: src/, public/, package.json');", `cpSync('public', 'dist/site', { recursive: true });
writeFileSync('dist/site/index.html', '<!doctype html><title>Harbour Outfitters</title><h1>Harbour Outfitters</h1><p>Served by busybox httpd.</p>\\n');
writeFileSync('dist/site/health', 'ok\\n');
console.log('dist/ ready: src/, public/, package.json, site/');`);
  await replaceInFile(dir, 'scripts/build.mjs', "import { cpSync, mkdirSync, rmSync } from 'node:fs';", "import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';");
  await replaceInFile(dir, 'slipway.yaml', '  start: node src/server.js\n', '  start: httpd -f -p "$PORT" -h site\n');
  await replaceInFile(dir, 'slipway.yaml', 'dispatcher:\n', 'image:\n  base: static\ndispatcher:\n');
}

const APPLY: Record<SampleVariant, (dir: string) => Promise<void>> = {
  default: async () => {},
  failingUnitTest,
  lowCoverage,
  vulnerability,
  brokenHealth,
  failingFunctionalTest,
  failingUiTest,
  noUiTests,
  heavierPage,
  insecure,
  newVersion,
  otherHealthPath,
  staticSite,
};

/** Applies variants, in order, to a copy of the sample site in `dir`. */
export async function applyVariants(dir: string, variant: SampleVariant | readonly SampleVariant[]): Promise<void> {
  for (const v of typeof variant === 'string' ? [variant] : variant) await APPLY[v](dir);
}
