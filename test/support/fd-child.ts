// A process started with a descriptor it did not open (left open by its parent, as a shell or
// a CI runner may): it closes what it inherited as Slipway's server does at start, then lists
// the descriptors a sandboxed run sees.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeInheritedDescriptors } from '../../src/runner/inherited-fds.ts';
import { runSandboxed } from '../../src/runner/sandbox.ts';

const closed = closeInheritedDescriptors();
const workspace = mkdtempSync(join(tmpdir(), 'slipway-fd-'));
const chunks: Buffer[] = [];
try {
  await runSandboxed({
    command: 'ls /proc/self/fd', workspace, env: {}, timeoutMs: 30_000,
    onOutput: (c) => chunks.push(c), log: () => undefined,
  });
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify({ closed, seen: Buffer.concat(chunks).toString().split(/\s+/).filter(Boolean).map(Number) }));
