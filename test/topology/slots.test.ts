// Backend slots: a deploy that keeps the dispatcher package switches each pair with set_health
// (no VCL compiled), alternating between the pair's two recorded ports; a new dispatcher
// package compiles; a slot port taken by a stranger is moved; a restarted varnishd routes to
// the recorded slot again; a state file from before slots still loads and gets slots.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { buildImage } from '../../src/artifacts/oci.ts';
import { LocalDriver } from '../../src/topology/local/local-driver.ts';
import { httpGet } from '../../src/topology/local/http.ts';
import { pidAlive } from '../../src/runner/pids.ts';
import { loadState, saveState, type TopologyState } from '../../src/topology/local/state.ts';
import { VarnishAdmin } from '../../src/topology/local/varnish.ts';
import { chooseSlot, type SlotInput } from '../../src/topology/local/slots.ts';
import type { DeployProgress, Release } from '../../src/topology/driver.ts';
import { DISPATCHER_YAML, deployOptions, environment, makeFixture, release, waitUntil, type Fixture } from './support.ts';

let fx: Fixture;
let driver: LocalDriver;
const env = environment('slots', 2);
const intruders: Server[] = [];

async function state(): Promise<TopologyState> {
  const s = await loadState(driver.envDir(env));
  if (!s) throw new Error('no state');
  return s;
}

/** Deploys and checks the outcome; returns the progress records. */
async function deploy(r: Release): Promise<DeployProgress[]> {
  const progress: DeployProgress[] = [];
  expect(await driver.deploy(env, r, deployOptions(progress))).toEqual({ outcome: 'deployed' });
  return progress;
}

/** Varnish routes pair i to the slot its publish process runs on, and only there. */
async function expectRoutedToPublish(s: TopologyState, i: number): Promise<void> {
  const d = s.dispatchers[i];
  const p = s.publish[i];
  const slots: readonly number[] = d?.slotPorts ?? [];
  const active = slots.indexOf(p?.port ?? -1);
  expect(active).toBeGreaterThanOrEqual(0);
  expect(d?.backendPort).toBe(p?.port);
  const health = await new VarnishAdmin(d?.workDir ?? '').adminHealth('slot_*');
  expect([health.get('slot_a'), health.get('slot_b')]).toEqual(active === 0 ? ['healthy', 'sick'] : ['sick', 'healthy']);
}

async function versionsThroughLb(s: TopologyState, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let k = 0; k < n; k++) seen.add(String((await httpGet(s.loadBalancer.port, `/page?${k}`)).headers['x-app-version']));
  return seen;
}

beforeAll(async () => {
  fx = await makeFixture();
  driver = new LocalDriver({ dataDir: fx.dataDir, store: fx.store, healthTimeoutMs: 10_000 });
  await driver.provision(env);
  await deploy(release(fx, 'v1'));
});

afterAll(async () => {
  for (const server of intruders) server.close();
  await driver.destroy(env).catch(() => undefined);
  driver.close();
  fx.cleanup();
});

describe('chooseSlot', () => {
  const base = (over: Partial<SlotInput>): SlotInput => ({
    recorded: [1000, 1001], current: 1000, keepApp: false,
    isFree: () => Promise.resolve(true), freshPort: () => Promise.resolve(2000), ...over,
  });
  it('alternates between the recorded slots without a new VCL', async () => {
    expect(await chooseSlot(base({}))).toEqual({ port: 1001, slotPorts: [1000, 1001], needsVcl: false });
    expect(await chooseSlot(base({ current: 1001 }))).toEqual({ port: 1000, slotPorts: [1000, 1001], needsVcl: false });
    expect(await chooseSlot(base({ keepApp: true }))).toEqual({ port: 1000, slotPorts: [1000, 1001], needsVcl: false });
  });
  it('records slots for a state from before slots, or one whose process is elsewhere', async () => {
    expect(await chooseSlot(base({ recorded: undefined }))).toEqual({ port: 2000, slotPorts: [1000, 2000], needsVcl: true });
    expect(await chooseSlot(base({ current: 1500 }))).toEqual({ port: 2000, slotPorts: [1500, 2000], needsVcl: true });
    expect(await chooseSlot(base({ recorded: undefined, keepApp: true }))).toEqual({ port: 1000, slotPorts: [1000, 2000], needsVcl: true });
  });
  it('moves a slot whose port is taken', async () => {
    const isFree = (port: number) => Promise.resolve(port !== 1001);
    expect(await chooseSlot(base({ isFree }))).toEqual({ port: 2000, slotPorts: [1000, 2000], needsVcl: true });
  });
});

describe('backend slots', () => {
  it('provisions two slots per pair and routes to the one publish runs on', async () => {
    const s = await state();
    for (let i = 0; i < 2; i++) {
      expect(s.dispatchers[i]?.slotPorts).toHaveLength(2);
      await expectRoutedToPublish(s, i);
    }
  });

  it('switches pairs without compiling when the dispatcher package is the same', async () => {
    const before = await state();
    await deploy(release(fx, 'v2'));
    const after = await state();
    for (let i = 0; i < 2; i++) {
      const [b, a] = [before.dispatchers[i], after.dispatchers[i]];
      expect(a?.vclSeq).toBe(b?.vclSeq);
      expect(a?.activeVcl).toBe(b?.activeVcl);
      expect(a?.slotPorts).toEqual(b?.slotPorts);
      // The new process took the other slot; the old one is gone.
      expect(after.publish[i]?.port).not.toBe(before.publish[i]?.port);
      expect(a?.slotPorts).toContain(after.publish[i]?.port);
      expect(pidAlive(before.publish[i]?.process?.pid ?? 0)).toBe(false);
      await expectRoutedToPublish(after, i);
    }
    expect(await versionsThroughLb(after, 20)).toEqual(new Set(['v2']));
    const view = await driver.describe(env);
    expect(view.publish.map((p) => Number(new URL(p.url).port))).toEqual(after.publish.map((p) => p.port));
    expect(view.publish.map((p) => [p.release?.version, p.healthy])).toEqual([['v2', true], ['v2', true]]);
  });

  it('moves a slot whose port a stranger took, and never routes to the stranger', async () => {
    const before = await state();
    const pair1 = before.dispatchers[0];
    const idle = pair1?.slotPorts?.find((p) => p !== before.publish[0]?.port) ?? 0;
    const intruder = createServer((_req, res) => { res.writeHead(200, { 'x-app-version': 'intruder' }); res.end('no'); });
    intruders.push(intruder);
    await new Promise<void>((resolve) => intruder.listen(idle, '127.0.0.1', resolve));
    await deploy(release(fx, 'v3'));
    const after = await state();
    expect(after.publish[0]?.port).not.toBe(idle);
    expect(after.dispatchers[0]?.slotPorts).not.toContain(idle);
    expect(after.dispatchers[0]?.vclSeq).toBe((pair1?.vclSeq ?? 0) + 1); // new slot ports: compiled
    expect(after.dispatchers[1]?.vclSeq).toBe(before.dispatchers[1]?.vclSeq);
    for (let i = 0; i < 2; i++) await expectRoutedToPublish(after, i);
    expect(await versionsThroughLb(after, 20)).toEqual(new Set(['v3']));
  });

  it('compiles a new VCL when the dispatcher package changes', async () => {
    const dir = join(fx.dataDir, 'dispatcher-src-2');
    mkdirSync(dir);
    writeFileSync(join(dir, 'dispatcher.yaml'), DISPATCHER_YAML.replace('ttlSeconds: 300', 'ttlSeconds: 120'));
    const dispatcherImage = (await buildImage(fx.store, { dir })).digest;
    const before = await state();
    await deploy({ ...release(fx, 'v4'), dispatcherImage });
    const after = await state();
    for (let i = 0; i < 2; i++) {
      expect(after.dispatchers[i]?.vclSeq).toBe((before.dispatchers[i]?.vclSeq ?? 0) + 1);
      expect(after.dispatchers[i]?.release?.dispatcherImage).toBe(dispatcherImage);
      await expectRoutedToPublish(after, i);
    }
    const d1 = after.dispatchers[0]?.port ?? 0;
    expect((await httpGet(d1, '/assets/app.css')).headers['x-cache']).toBe('HIT'); // warmed
    // Same package again, new app: back to compile-free.
    await deploy({ ...release(fx, 'v5'), dispatcherImage });
    const again = await state();
    expect(again.dispatchers.map((d) => d.vclSeq)).toEqual(after.dispatchers.map((d) => d.vclSeq));
    expect(await versionsThroughLb(again, 20)).toEqual(new Set(['v5']));
  });

  it('a restarted varnishd routes to the recorded slot again', async () => {
    const before = await state();
    const pid = before.dispatchers[1]?.process?.pid ?? 0;
    process.kill(-pid, 'SIGKILL');
    await waitUntil(() => !pidAlive(pid), 5000);
    await driver.adopt(env);
    const after = await state();
    expect(after.dispatchers[1]?.process?.pid).not.toBe(pid);
    await expectRoutedToPublish(after, 1);
    const res = await httpGet(after.dispatchers[1]?.port ?? 0, '/page');
    expect([res.status, res.headers['x-app-version']]).toEqual([200, 'v5']);
  });

  it('loads a state file from before slots and records slots on the next deploy', async () => {
    // Make pair 2 look like an environment provisioned before slots: a single-backend VCL
    // and no slotPorts in the state file.
    const old = await state();
    const d = old.dispatchers[1];
    const p = old.publish[1];
    if (!d || !p) throw new Error('no pair 2');
    const file = join(old.dir, 'dispatchers', d.name, 'legacy.vcl');
    writeFileSync(file, `vcl 4.1;\nbackend publish { .host = "127.0.0.1"; .port = "${p.port}"; }\n`);
    const admin = new VarnishAdmin(d.workDir);
    await admin.adm('vcl.load', 'legacy', file);
    await admin.adm('vcl.use', 'legacy');
    delete d.slotPorts;
    Object.assign(d, { activeVcl: 'legacy', vclFile: file });
    await saveState(old);
    await driver.adopt(env);
    expect((await httpGet(d.port, '/page')).headers['x-app-version']).toBe('v5');

    const r6 = { ...release(fx, 'v6'), dispatcherImage: old.dispatchers[0]?.release?.dispatcherImage ?? '' };
    await deploy(r6);
    const migrated = await state();
    const slots = migrated.dispatchers[1]?.slotPorts;
    expect(slots?.[0]).toBe(p.port); // the running process kept its port as slot a
    expect(migrated.publish[1]?.port).toBe(slots?.[1]);
    expect(migrated.dispatchers[1]?.vclSeq).toBe(d.vclSeq + 1); // compiled once
    expect(migrated.dispatchers[0]?.vclSeq).toBe(old.dispatchers[0]?.vclSeq); // pair 1 did not
    await expectRoutedToPublish(migrated, 1);

    await deploy({ ...r6, version: 'v7' });
    const next = await state();
    expect(next.dispatchers[1]?.vclSeq).toBe(migrated.dispatchers[1]?.vclSeq);
    expect(next.publish[1]?.port).toBe(p.port);
    await expectRoutedToPublish(next, 1);
    expect(await versionsThroughLb(next, 20)).toEqual(new Set(['v7']));
  });
});
