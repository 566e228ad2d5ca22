// How fast build output gets through the sandbox into Slipway: a command in the sandbox prints
// 100 MB; we measure the throughput into an in-memory sink (with and without secret masking)
// against the same command writing to /dev/null in a plain shell.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretMasker } from '../src/runner/mask.ts';
import { runSandboxed } from '../src/runner/sandbox.ts';

const BYTES = 100 * 1024 * 1024;
const COMMAND = `yes 'build output line: compiling module 0123456789 abcdefghij' | head -c ${BYTES}`;

function mbPerSecond(bytes: number, ms: number): number {
  return bytes / 1024 / 1024 / (ms / 1000);
}

async function sandboxed(workspace: string, mask: boolean): Promise<{ ms: number; bytes: number }> {
  const sink: Buffer[] = [];
  let bytes = 0;
  const masker = new SecretMasker(mask ? ['s3cr3t-token-value', 'another-secret'] : [], (c) => { sink.push(c); bytes += c.length; });
  const started = performance.now();
  const result = await runSandboxed({
    command: COMMAND, workspace, env: {}, timeoutMs: 120_000, log: () => undefined,
    onOutput: (chunk) => masker.write(chunk),
  });
  masker.end();
  const ms = performance.now() - started;
  if (result.exitCode !== 0) throw new Error(`sandboxed command failed: ${result.exitCode}`);
  sink.length = 0;
  return { ms, bytes };
}

export async function run(): Promise<void> {
  const workspace = mkdtempSync(join(tmpdir(), 'slipway-bench-log-'));
  try {
    const plainStarted = performance.now();
    const plain = spawnSync('/bin/sh', ['-c', `${COMMAND} > /dev/null`]);
    const plainMs = performance.now() - plainStarted;
    if (plain.status !== 0) throw new Error('plain command failed');
    const raw = await sandboxed(workspace, false);
    const masked = await sandboxed(workspace, true);
    if (raw.bytes !== BYTES || masked.bytes !== BYTES) throw new Error(`lost output: ${raw.bytes}/${masked.bytes} of ${BYTES}`);
    console.log('log-ingestion: 100 MB of output');
    console.log(`  plain shell > /dev/null:          ${plainMs.toFixed(0)} ms (${mbPerSecond(BYTES, plainMs).toFixed(0)} MB/s)`);
    console.log(`  sandbox → in-memory sink:         ${raw.ms.toFixed(0)} ms (${mbPerSecond(BYTES, raw.ms).toFixed(0)} MB/s), slowdown ×${(raw.ms / plainMs).toFixed(2)}`);
    console.log(`  sandbox → masker (2 secrets) → sink: ${masked.ms.toFixed(0)} ms (${mbPerSecond(BYTES, masked.ms).toFixed(0)} MB/s), slowdown ×${(masked.ms / plainMs).toFixed(2)}`);
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
