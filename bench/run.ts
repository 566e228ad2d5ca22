// `npm run bench`: every benchmark in one run, figures printed (goals in each file's header).
// `npm run bench -- engine api` runs only those.
const BENCHES: Record<string, () => Promise<{ run(): Promise<void> }>> = {
  engine: () => import('./engine.ts'),
  api: () => import('./api.ts'),
  'build-overhead': () => import('./build-overhead.ts'),
  'log-ingestion': () => import('./log-ingestion.ts'),
  'sandbox-start': () => import('./sandbox-start.ts'),
  'rolling-deploy': () => import('./rolling-deploy.ts'),
  'container-start': () => import('./container-start.ts'),
  audit: () => import('./audit.ts'),
  takeover: () => import('./takeover.ts'),
  soak: () => import('./soak.ts'),
  webhooks: () => import('./webhooks.ts'),
  images: () => import('./images.ts'),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in BENCHES));
if (unknown.length) {
  console.error(`unknown bench: ${unknown.join(', ')} (have: ${Object.keys(BENCHES).join(', ')})`);
  process.exit(2);
}
for (const [name, load] of Object.entries(BENCHES)) {
  if (wanted.length && !wanted.includes(name)) continue;
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  await (await load()).run();
  console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
process.exit(0);
