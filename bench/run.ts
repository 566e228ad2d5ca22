// `npm run bench`: every benchmark in one run, figures printed (goals in each file's header).
// `npm run bench -- engine api` runs only those; `--json` ends the output with one line, a JSON
// object of each bench's headline figures (numbers only), for the README table and comparisons.
import { finite, jsonKey, type Bench } from './figures.ts';

const BENCHES: Record<string, () => Promise<Bench>> = {
  engine: () => import('./engine.ts'),
  api: () => import('./api.ts'),
  'build-overhead': () => import('./build-overhead.ts'),
  'log-ingestion': () => import('./log-ingestion.ts'),
  'log-tail': () => import('./log-tail.ts'),
  'sandbox-start': () => import('./sandbox-start.ts'),
  'rolling-deploy': () => import('./rolling-deploy.ts'),
  'container-start': () => import('./container-start.ts'),
  'approval-to-deploy': () => import('./approval-to-deploy.ts'),
  audit: () => import('./audit.ts'),
  takeover: () => import('./takeover.ts'),
  soak: () => import('./soak.ts'),
  webhooks: () => import('./webhooks.ts'),
  images: () => import('./images.ts'),
};

const args = process.argv.slice(2);
const json = args.includes('--json');
const wanted = args.filter((a) => a !== '--json');
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length) {
  console.error(`unknown bench: ${unknown.join(', ')} (have: ${Object.keys(BENCHES).join(', ')})`);
  process.exit(2);
}
const figures: Record<string, Record<string, number>> = {};
for (const [name, load] of Object.entries(BENCHES)) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const measured = await (await load()).run();
  if (measured) figures[jsonKey(name)] = finite(measured);
  console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
if (json) console.log(JSON.stringify(figures));
process.exit(0);
