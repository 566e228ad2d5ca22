import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { freePort } from '../../src/runner/free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapArgs, prepareSandbox, runSandboxed, sandboxCommand, stagingFstab, type SandboxOptions } from '../../src/runner/sandbox.ts';
import { chainHead, DEFAULT_PATH, ENV_FILE, envArgs, outboundOnly } from '../../src/runner/sandbox-command.ts';
import { sweepStaleRunDirs } from '../../src/runner/sandbox-prepare.ts';
import { eventually } from '../support/eventually.ts';

let root: string;
let workspace: string;
// /tmp is replaced by a tmpfs inside the sandbox anyway, so the "data dir" of the isolation
// tests lives under /var/tmp, where only the sandbox's own masking can hide it.
let dataDir: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'slipway-sandbox-'));
  workspace = join(root, 'ws');
  mkdirSync(workspace);
  dataDir = mkdtempSync('/var/tmp/slipway-sandbox-data-');
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

async function run(command: string, extra: Partial<SandboxOptions> = {}): Promise<{ out: string; result: Awaited<ReturnType<typeof runSandboxed>> }> {
  const chunks: Buffer[] = [];
  const result = await runSandboxed({
    command, workspace, env: {}, timeoutMs: 20_000, onOutput: (c) => chunks.push(c), log: () => undefined, ...extra,
  });
  return { out: Buffer.concat(chunks).toString('utf8'), result };
}

/** Pids of processes whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(marker) && Number(entry) !== process.pid) pids.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return pids;
}


describe('runSandboxed', () => {
  it('reports the exit code and streams stdout and stderr interleaved, in order', async () => {
    const { out, result } = await run('echo one; echo two >&2; echo three; exit 3');
    expect(out).toBe('one\ntwo\nthree\n');
    expect(result.exitCode).toBe(3);
    expect(result.timedOut).toBe(false);
    expect(result.cancelled).toBe(false);
  });

  it('delivers output as it arrives, before the command ends', async () => {
    // The command goes on only once the test has seen its first line: were output held back
    // until the end, it would wait for `go` until its timeout.
    const go = join(workspace, `go-${process.pid}`);
    const result = await runSandboxed({
      command: `echo first; while [ ! -e ${JSON.stringify(`go-${process.pid}`)} ]; do sleep 0.05; done; echo second`,
      workspace, env: {}, timeoutMs: 20_000, log: () => undefined,
      onOutput: (chunk) => { if (chunk.toString().includes('first')) writeFileSync(go, ''); },
    });
    rmSync(go, { force: true });
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).toBe(0);
  });

  it('passes exactly the given environment', async () => {
    process.env.SLIPWAY_TEST_HOST_ONLY = 'leak';
    const { out } = await run('env', { env: { FOO: 'bar baz', PATH: '/usr/bin:/bin' } });
    delete process.env.SLIPWAY_TEST_HOST_ONLY;
    expect(out).toContain('FOO=bar baz\n');
    expect(out).toContain('PATH=/usr/bin:/bin\n');
    expect(out).not.toContain('SLIPWAY_TEST_HOST_ONLY');
    expect(out).not.toMatch(/^HOME=/m);
  });

  it('never puts the environment (secrets) on a command line the host\'s accounts can read', async () => {
    const secret = `s3cret-${process.pid}-${Date.now()}`;
    const running = run('sleep 1; printf "%s" "$TOKEN"', { env: { TOKEN: secret, SPACED: 'a b\nc' } });
    // While it runs: no process of the host shows it in /proc/<pid>/cmdline (what `ps` reads).
    await eventually(async () => processesWith('sleep 1').length > 0);
    expect(processesWith(secret)).toEqual([]);
    const { out, result } = await running;
    expect(result.exitCode).toBe(0);
    expect(out).toBe(secret);
  });

  it('can write its workspace but nothing outside it', async () => {
    const outside = join(dataDir, 'outside.txt');
    const { out, result } = await run(
      `echo inside > inside.txt && echo ok1; touch /usr/slipway-x 2>&1 || echo denied1; echo x > ${outside} || echo denied2`,
    );
    expect(result.exitCode).toBe(0);
    expect(out).toContain('ok1');
    expect(out).toContain('denied1');
    expect(out).toContain('denied2');
    expect(readFileSync(join(workspace, 'inside.txt'), 'utf8')).toBe('inside\n');
    expect(existsSync(outside)).toBe(false);
    expect(existsSync('/usr/slipway-x')).toBe(false);
  });

  it("hides the data dir and sibling workspaces, but not the run's own workspace under it", async () => {
    writeFileSync(join(dataDir, 'secret.txt'), 'database password');
    const own = join(dataDir, 'work', 'exec-a', 'workspace');
    const sibling = join(dataDir, 'work', 'exec-b', 'workspace');
    mkdirSync(own, { recursive: true });
    mkdirSync(sibling, { recursive: true });
    writeFileSync(join(sibling, 'other.txt'), 'other execution');
    writeFileSync(join(own, 'mine.txt'), 'my file');
    const command = `cat ${dataDir}/secret.txt; cat ${sibling}/other.txt; cat mine.txt; echo written > new.txt`;

    const hidden = await run(command, { workspace: own, hidePaths: [dataDir] });
    expect(hidden.out).not.toContain('database password');
    expect(hidden.out).not.toContain('other execution');
    expect(hidden.out).toContain('my file');
    expect(readFileSync(join(own, 'new.txt'), 'utf8')).toBe('written\n');

    // The data dir is 0700 (mkdtemp): the run above worked in a workspace under it. Control: opened
    // up and without masking the same files are readable, so the check above can fail.
    chmodSync(dataDir, 0o755);
    const visible = await run(command, { workspace: own });
    chmodSync(dataDir, 0o700);
    expect(visible.out).toContain('database password');
    expect(visible.out).toContain('other execution');
  });

  it('kills the whole process tree on cancel', async () => {
    const marker = `${1000 + Math.floor(Math.random() * 8000)}.${process.pid}`;
    const controller = new AbortController();
    const running = run(`sleep ${marker} & sleep ${marker} & wait`, { signal: controller.signal });
    await eventually(() => processesWith(marker).length >= 2, 30_000, 'both sleeps to run');
    controller.abort();
    const { result } = await running;
    expect(result.cancelled).toBe(true);
    // Eventually none is left (how fast is bench/'s question, not this test's).
    await eventually(() => processesWith(marker).length === 0, 30_000, 'the cancelled tree to be gone');
  });

  it('kills the command when its time runs out', async () => {
    const marker = `${1000 + Math.floor(Math.random() * 8000)}.${process.pid + 1}`;
    const { result } = await run(`sleep ${marker}`, { timeoutMs: 500 });
    // `sleep` for an hour or more: that it returned at all is the timeout at work.
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).not.toBe(0);
    await eventually(() => processesWith(marker).length === 0, 30_000, 'the timed-out command to be gone');
  });

  it('returns at once when already cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const { result } = await run('echo never', { signal: controller.signal });
    expect(result.cancelled).toBe(true);
    expect(result.exitCode).toBeNull();
  });

  it('applies a pids limit through cgroup v1 where the machine allows it', async () => {
    const writable = await access('/sys/fs/cgroup/pids', 2).then(() => true, () => false);
    const notices: string[] = [];
    const { out } = await run('for i in $(seq 40); do sleep 5 & done; wait', {
      limits: { pids: 12 }, timeoutMs: 20_000, log: (l) => notices.push(l),
    });
    if (!writable) {
      expect(notices.join('\n')).toMatch(/limits skipped/);
      return;
    }
    expect(out).toMatch(/fork/i);
    // The run's cgroup is removed afterwards.
    const left = existsSync('/sys/fs/cgroup/pids/slipway')
      ? readdirSync('/sys/fs/cgroup/pids/slipway').filter((d) => d.startsWith(`${process.pid}-`))
      : [];
    expect(left).toEqual([]);
  });
});

describe('network and accounts', () => {
  it('publishes a port the command listens on to the host 127.0.0.1, and only while it runs', async () => {
    const port = await freePort();
    const served = run(`node -e "require('http').createServer((q, r) => r.end('from inside')).listen(${port}, '127.0.0.1'); setTimeout(() => process.exit(0), 4000)"`, {
      network: { outbound: false, publishPorts: [port] },
    });
    let body = '';
    for (let i = 0; i < 60 && !body; i++) {
      body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => '');
      if (!body) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toBe('from inside');
    await served;
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('prepareSandbox: a detached long-lived process serves a published port until it is stopped and released', async () => {
    const port = await freePort();
    const prepared = await prepareSandbox({
      command: `exec node -e "require('http').createServer((q, r) => r.end('node')).listen(${port}, '127.0.0.1')"`,
      workspace, env: {}, longLived: true, limits: { pids: 64 }, network: { outbound: false, publishPorts: [port] },
    }, () => undefined);
    const child = spawn(prepared.argv[0] ?? '', prepared.argv.slice(1), { env: prepared.env, detached: true, stdio: 'ignore' });
    child.unref();
    let body = '';
    for (let i = 0; i < 100 && !body; i++) {
      body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => '');
      if (!body) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toBe('node');
    expect((await prepared.cgroup?.pids())?.length ?? 1).toBeGreaterThan(0);
    await prepared.release(); // kills what is left in its cgroups
    if (prepared.cgroup) await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    else if (child.pid) process.kill(-child.pid, 'SIGKILL');
  });

  it('works for an ordinary (non-root) Slipway user: own user namespace, same uid, limits skipped and logged', async () => {
    if (process.getuid?.() !== 0) return; // the test needs root to become an ordinary user
    const dir = mkdtempSync('/var/tmp/slipway-sandbox-user-');
    try {
      const script = join(dir, 'run.mts');
      writeFileSync(script, [
        `import { runSandboxed } from ${JSON.stringify(join(import.meta.dirname, '../../src/runner/sandbox.ts'))};`,
        `const chunks = []; const ws = ${JSON.stringify(join(dir, 'ws'))}; (await import('node:fs')).mkdirSync(ws);`,
        "const r = await runSandboxed({ command: 'echo uid=$(id -u); grep CapEff /proc/self/status; touch made && echo wrote', workspace: ws, env: {}, timeoutMs: 20000, limits: { pids: 100 }, onOutput: (c) => chunks.push(c), log: (l) => chunks.push(Buffer.from(l + '\\n')) });",
        'console.log(JSON.stringify({ exitCode: r.exitCode, out: Buffer.concat(chunks).toString() }));',
      ].join('\n'));
      execFileSync('chown', ['-R', 'nobody', dir]);
      const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');
      let stdout: string;
      try {
        stdout = execFileSync('setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', '--', tsx, script], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir } });
      } catch (err) {
        // A checkout an ordinary user cannot read (e.g. under /root) cannot run this test.
        if (/EACCES|permission denied/i.test(String((err as { stderr?: string }).stderr))) return;
        throw err;
      }
      const { exitCode, out } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { exitCode: number; out: string };
      expect(exitCode, out).toBe(0);
      expect(out).toContain('uid=65534');
      expect(out).toMatch(/CapEff:\s+0{16}/);
      expect(out).toContain('wrote');
      expect(out).toMatch(/limits skipped/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sandboxCommand', () => {
  const host = { bwrap: true, pasta: true, uid: 999, gid: 995, notices: [] };
  const spec = { command: 'make', workspace: '/var/lib/slipway/work/e1/ws', env: { A: '1' }, hidePaths: ['/var/lib'] };

  it('masks hidden paths before binding the workspace back in, and clears the environment', () => {
    const args = bwrapArgs(spec, host);
    const tmpfs = args.findIndex((a, i) => a === '--tmpfs' && args[i + 1] === '/var/lib');
    const bind = args.findIndex((a, i) => a === '--bind' && args[i + 1] === '/var/lib/slipway/work/e1/ws');
    expect(tmpfs).toBeGreaterThan(0);
    expect(bind).toBeGreaterThan(tmpfs);
    expect(args).toContain('--clearenv');
    expect(args.join(' ')).toContain('--clearenv --args 6');
    expect(args).not.toContain('--setenv');
    expect(envArgs({ env: { A: 'x y' } })).toBe(`--setenv\0PATH\0${DEFAULT_PATH}\0--setenv\0A\0x y\0`);
    expect(args.slice(-3)).toEqual(['/bin/sh', '-c', 'make']);
    for (const flag of ['--unshare-user', '--unshare-pid', '--unshare-net', '--disable-userns', '--new-session', '--die-with-parent']) expect(args).toContain(flag);
    expect(args.join(' ')).toContain('--cap-drop ALL');
    expect(args.join(' ')).toContain('--uid 999 --gid 995');
    expect(args).not.toContain('--share-net');
    expect(args.join(' ')).toContain('--seccomp 3');
    expect(bwrapArgs({ ...spec, longLived: true }, host)).not.toContain('--die-with-parent');
  });

  it('as root: drops to the sandbox account and binds the workspace from the staging dir', () => {
    const { argv } = sandboxCommand(spec, { ...host, runAs: { user: 'slipway-run', uid: 999, gid: 995 } }, { cgroupProcs: ['/cg/procs'], runDir: '/tmp/stage' });
    expect(argv.slice(0, 5)).toEqual(['/usr/bin/unshare', '--mount', '--propagation', 'private', '--']);
    const line = argv.join(' ');
    expect(line).toContain('sandbox /tmp/stage/seccomp.bpf /tmp/stage/env.args 1 /cg/procs /tmp/stage/staging.fstab ');
    // One `mount --all` of the run's fstab stages every bound dir (escaped as fstab wants it).
    expect(stagingFstab(['/var/lib/slipway/work/e1/ws'], '/tmp/stage')).toBe('/var/lib/slipway/work/e1/ws /tmp/stage/0 none bind 0 0\n');
    expect(stagingFstab(['/w s', '/h\\x'], '/tmp/stage'))
      .toBe('/w\\040s /tmp/stage/0 none bind 0 0\n/h\\134x /tmp/stage/1 none bind 0 0\n');
    expect(line).toContain('/usr/bin/setpriv --reuid 999 --regid 995 --clear-groups --inh-caps=-all --');
    expect(line).toContain('--bind /tmp/stage/0 /var/lib/slipway/work/e1/ws');
    expect(line.indexOf('setpriv')).toBeLessThan(line.indexOf('/usr/bin/bwrap'));
    // The disk quota as the shell's file size limit, in 512-byte blocks, rounded down.
    const quota = sandboxCommand({ ...spec, limits: { diskBytes: 1024 ** 3 + 100 } }, host, { cgroupProcs: [], runDir: '/tmp/run' }).argv;
    expect(quota.join(' ')).toContain(`sandbox /tmp/run/seccomp.bpf /tmp/run/env.args 0  ${1024 ** 3 / 512} /usr/bin/bwrap`);
  });

  it('networks: none without pasta; outbound and forwarded ports through pasta, never the gateway mapped to the host', () => {
    expect(sandboxCommand(spec, host, { cgroupProcs: [], runDir: '/tmp/run' }).argv).not.toContain('/usr/bin/pasta');
    const { argv } = sandboxCommand({ ...spec, network: { outbound: true, hostPorts: [8080, 4502], publishPorts: [3000] } }, host, { cgroupProcs: [], runDir: '/tmp/run' });
    const line = argv.join(' ');
    expect(line).toContain('/usr/bin/pasta --quiet --foreground --no-map-gw --config-net -t 127.0.0.1/3000 -u none -T 8080,4502 -U none --');
    expect(argv).not.toContain('--unshare-net');
    const portsOnly = sandboxCommand({ ...spec, network: { outbound: false, hostPorts: [8080] } }, host, { cgroupProcs: [], runDir: '/tmp/run' }).argv;
    expect(portsOnly).not.toContain('--config-net');
  });

  it('staged roots: the chain up to bubblewrap is the same for any dirs under them, which are bound from below the staged roots', () => {
    const root = { ...host, runAs: { user: 'slipway-run', uid: 999, gid: 995 } };
    const placement = { cgroupProcs: ['/cg/procs'], runDir: '/tmp/stage', stagedRoots: ['/var/lib/slipway/work', '/var/lib/slipway/caches'] };
    const build = { ...spec, workspace: '/var/lib/slipway/work/e1/s1/ws', writablePaths: ['/var/lib/slipway/work/e1/s1/home'], cachePaths: ['/var/lib/slipway/caches/7'], network: { outbound: true } };
    const { argv } = sandboxCommand(build, root, placement);
    const head = chainHead(build, root, placement);
    expect(argv.slice(0, head.length)).toEqual(head);
    expect(argv[head.length]).toBe('/usr/bin/bwrap');
    expect(head).toContain('/usr/bin/pasta');
    expect(sandboxCommand({ ...build, workspace: '/var/lib/slipway/work/e2/s1/ws' }, root, placement).argv.slice(0, head.length)).toEqual(head);
    const line = argv.join(' ');
    expect(line).toContain('--bind /tmp/stage/0/e1/s1/ws /var/lib/slipway/work/e1/s1/ws');
    expect(line).toContain('--bind /tmp/stage/0/e1/s1/home /var/lib/slipway/work/e1/s1/home');
    expect(line).toContain('--bind /tmp/stage/1/7 /var/lib/slipway/caches/7');
    expect(() => sandboxCommand({ ...build, writablePaths: ['/elsewhere'] }, root, placement)).toThrow(/no staged root/);
    expect(outboundOnly({ outbound: true })).toBe(true);
    expect(outboundOnly({ outbound: true, hostPorts: [8080] })).toBe(false);
    expect(outboundOnly({ outbound: true, publishPorts: [3000] })).toBe(false);
    expect(outboundOnly({ outbound: false })).toBe(false);
    expect(outboundOnly(undefined)).toBe(false);
  });

  it('refuses to run without bubblewrap, or as root without an account to drop to', () => {
    expect(() => sandboxCommand(spec, { ...host, bwrap: false }, { cgroupProcs: [], runDir: '/tmp/run' })).toThrow(/bubblewrap/);
    expect(() => sandboxCommand(spec, { ...host, uid: 0, gid: 0 }, { cgroupProcs: [], runDir: '/tmp/run' })).toThrow(/unprivileged/);
    expect(() => sandboxCommand({ ...spec, network: { outbound: true } }, { ...host, pasta: false }, { cgroupProcs: [], runDir: '/tmp/run' })).toThrow(/passt/);
  });
});

describe('run dirs', () => {
  it("of a Slipway process that died are swept, its runs' environment first; a live one's, and what is not empty, stay", async () => {
    const deadPid = spawnSync('true').pid;
    const live = spawn('sleep', ['30'], { stdio: 'ignore' });
    const made = (name: string, files: Record<string, string>, dirs: string[]): string => {
      const dir = join(tmpdir(), name);
      for (const sub of dirs) mkdirSync(join(dir, sub), { recursive: true });
      mkdirSync(dir, { recursive: true });
      for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text, { mode: 0o600 });
      return dir;
    };
    const env = { [ENV_FILE]: envArgs({ env: { SECRET: 'swept' } }), 'seccomp.bpf': 'x', 'staging.fstab': 'x' };
    const dead = made(`slipway-run-${deadPid}-test`, env, ['0', '1']);
    const deadAhead = made(`slipway-ahead-${deadPid}-test`, env, ['0', '1']);
    writeFileSync(join(deadAhead, '1', 'not-ours'), 'a mount point is never removed with what is under it');
    const living = made(`slipway-run-${live.pid}-test`, env, ['0']);
    // Someone else's name for a dir of theirs: never followed.
    const theirs = made('slipway-theirs-test', env, []);
    const planted = join(tmpdir(), `slipway-run-${deadPid}-planted`);
    symlinkSync(theirs, planted);
    try {
      sweepStaleRunDirs();
      expect(readdirSync(theirs)).toHaveLength(3);
      expect(existsSync(dead)).toBe(false);
      expect(readdirSync(deadAhead)).toEqual(['1']);
      expect(readdirSync(join(deadAhead, '1'))).toEqual(['not-ours']);
      expect(readdirSync(living).sort()).toEqual(['0', ENV_FILE, 'seccomp.bpf', 'staging.fstab'].sort());
    } finally {
      live.kill();
      for (const dir of [dead, deadAhead, living, theirs, planted]) rmSync(dir, { recursive: true, force: true });
    }
  });
});
