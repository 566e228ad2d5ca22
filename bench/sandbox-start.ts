// What the isolation costs: the start overhead of one sandboxed command (`true`) with no
// network (bwrap's empty network namespace), with outbound networking through pasta, and with
// pasta forwarding only host ports (test bundles), against a plain /bin/sh. Then the cost on
// what a build does with the network: the same registry download through pasta and on the host
// (skipped when the registry is unreachable), and how far a disk filler gets past the quota
// before the watch stops it. Figures only; nothing is asserted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diskUsage } from '../src/runner/disk-quota.ts';
import { runSandboxed, type NetworkOptions } from '../src/runner/sandbox.ts';

const RUNS = 20;
const DOWNLOAD = 'https://registry.npmjs.org/typescript/-/typescript-5.6.3.tgz';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function timed(workspace: string, command: string, network?: NetworkOptions): Promise<{ ms: number; out: string }> {
  const chunks: Buffer[] = [];
  const started = performance.now();
  const result = await runSandboxed({
    command, workspace, env: {}, timeoutMs: 120_000, log: () => undefined, onOutput: (c) => chunks.push(c),
    ...(network ? { network } : {}),
  });
  const ms = performance.now() - started;
  const out = Buffer.concat(chunks).toString('utf8');
  if (result.exitCode !== 0) throw new Error(`sandboxed ${command} failed (${result.exitCode}): ${out}`);
  return { ms, out };
}

export async function run(): Promise<void> {
  const workspace = mkdtempSync(join(tmpdir(), 'slipway-bench-sandbox-'));
  try {
    const plain: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      spawnSync('/bin/sh', ['-c', 'true']);
      plain.push(performance.now() - started);
    }
    const variants: [string, NetworkOptions | undefined][] = [
      ['no network', undefined],
      ['outbound (pasta)', { outbound: true }],
      ['host ports only (pasta)', { outbound: false, hostPorts: [8080, 4502] }],
    ];
    console.log(`sandbox-start: median of ${RUNS} runs of \`true\``);
    console.log(`  plain /bin/sh:                ${median(plain).toFixed(1)} ms`);
    for (const [name, network] of variants) {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) times.push((await timed(workspace, 'true', network)).ms);
      console.log(`  sandbox, ${name.padEnd(24)} ${median(times).toFixed(1)} ms`);
    }

    const quota = 256 * 1024 ** 2;
    const filler = await runSandboxed({
      command: 'i=0; while :; do head -c 1048576 /dev/zero > fill$i || exit 1; i=$((i+1)); done',
      workspace, env: {}, timeoutMs: 120_000, log: () => undefined, onOutput: () => undefined, limits: { diskBytes: quota },
    });
    const filled = (await diskUsage([workspace])) ?? 0;
    console.log(`  disk filler, quota 256 MB: stopped=${filler.diskQuotaExceeded} at ${(filled / 1024 ** 2).toFixed(0)} MB (overshoot ${((filled - quota) / 1024 ** 2).toFixed(0)} MB)`);

    const curl = `curl -sS -m 60 -o /dev/null -w '%{size_download} %{time_total}' ${DOWNLOAD}`;
    const host = spawnSync('/bin/sh', ['-c', curl], { encoding: 'utf8' });
    if (host.status !== 0) {
      console.log(`  download: registry unreachable, skipped (${host.stderr.trim()})`);
      return;
    }
    const inside = await timed(workspace, curl, { outbound: true });
    const [bytes, hostSeconds] = host.stdout.split(' ').map(Number);
    const insideSeconds = Number(inside.out.trim().split(' ')[1]);
    const rate = (seconds: number): string => `${((bytes ?? 0) / 1024 / 1024 / seconds).toFixed(1)} MB/s`;
    console.log(`  download ${((bytes ?? 0) / 1024 / 1024).toFixed(1)} MB from the npm registry: host ${rate(hostSeconds ?? 1)}, through pasta ${rate(insideSeconds)}`);
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
