// The escape suite: what an attacker with push rights would try from a build or a test bundle,
// run through the real sandbox (real bwrap, pasta, cgroups). Each attempt must be refused or
// contained, and the test process (standing in for Slipway) must keep answering meanwhile.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSandboxed, sandboxWarm, warmUpSandbox, type SandboxOptions } from '../../src/runner/sandbox.ts';
import { aheadPid } from '../../src/runner/sandbox-ahead.ts';
import { sandboxHost } from '../../src/runner/sandbox-host.ts';
import { diskUsage } from '../../src/runner/disk-quota.ts';
import { launcherPids } from '../../src/runner/launcher.ts';
import { STATUS_FD } from '../../src/runner/sandbox-status.ts';
import { eventually } from '../support/eventually.ts';

const isRoot = process.getuid?.() === 0;
const SECRET = `planted-secret-${process.pid}`;
let dataDir: string;
let workspace: string;
let outsideFile: string;

// The "data dir" lives under /var/tmp (the sandbox replaces /tmp anyway) and is 0700 as
// Slipway's is; the workspace is inside it, as a build's is.
beforeAll(() => {
  dataDir = mkdtempSync('/var/tmp/slipway-escape-');
  writeFileSync(join(dataDir, 'signing.key'), SECRET);
  workspace = join(dataDir, 'work', 'e1', 'workspace');
  mkdirSync(workspace, { recursive: true });
  outsideFile = join('/var/tmp', `slipway-escape-outside-${process.pid}`);
});
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(outsideFile, { force: true });
});

async function attempt(command: string, extra: Partial<SandboxOptions> = {}): Promise<{ out: string; result: Awaited<ReturnType<typeof runSandboxed>> }> {
  const chunks: Buffer[] = [];
  const result = await runSandboxed({
    command, workspace, env: {}, timeoutMs: 30_000, hidePaths: [dataDir],
    onOutput: (c) => chunks.push(c), log: (l) => chunks.push(Buffer.from(`${l}\n`)), ...extra,
  });
  return { out: Buffer.concat(chunks).toString('utf8'), result };
}

/** Pids of processes whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).flatMap((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(marker) && Number(pid) !== process.pid ? [Number(pid)] : [];
    } catch { return []; }
  });
}

/** A server in this process: it must keep answering while a bomb runs (Slipway stays responsive). */
let probe: Server;
let probeUrl: string;
beforeAll(async () => {
  probe = createServer((_req, res) => res.end('alive'));
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  probeUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => probe.close(() => r())));

async function whileRunning<T>(running: Promise<T>): Promise<{ value: T; answers: number }> {
  let answers = 0;
  let done = false;
  const polling = (async () => {
    while (!done) {
      if ((await (await fetch(probeUrl)).text()) === 'alive') answers++;
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const value = await running;
  done = true;
  await polling;
  return { value, answers };
}

describe('escape attempts from repository code', () => {
  it('cannot unmount the mask over the data dir, remount / read-write, or read the data dir', async () => {
    const { out } = await attempt([
      `umount -l ${dataDir} && echo UNMOUNTED`,
      'mount -o remount,bind,rw / && echo REMOUNTED',
      `mount -t tmpfs none /mnt && echo MOUNTED`,
      `cat ${dataDir}/signing.key`,
      `ls -a ${dataDir}`,
      `echo pwned > ${outsideFile} && echo WROTE`,
      'true',
    ].join('; '));
    expect(out).not.toMatch(/UNMOUNTED|REMOUNTED|MOUNTED|WROTE/);
    expect(out).not.toContain(SECRET);
    expect(existsSync(outsideFile)).toBe(false);
  });

  it('writes nothing outside its workspace', async () => {
    const { out } = await attempt('for p in /usr/x /etc/x /var/tmp/x /root/x /sys/fs/cgroup/pids/x; do touch $p 2>/dev/null && echo "WROTE $p"; done; touch ok && echo INSIDE');
    expect(out).toContain('INSIDE');
    expect(out).not.toContain('WROTE');
    expect(existsSync('/usr/x') || existsSync('/etc/x') || existsSync('/var/tmp/x')).toBe(false);
  });

  it("sees none of the host's sockets and runtime state in /run and /tmp", async () => {
    const { out } = await attempt('echo "run=$(ls -A /run | wc -l) tmp=$(ls -A /tmp | wc -l) varrun=$(ls -A /var/run/ | wc -l)"');
    expect(out).toContain('run=0 tmp=0 varrun=0');
    // Control: the host has entries there.
    expect(readdirSync('/run').length).toBeGreaterThan(0);
  });

  it('cannot read /etc/shadow or /root', async () => {
    const { out } = await attempt('cat /etc/shadow && echo SHADOW; ls /root && echo ROOTDIR; true');
    expect(out).not.toMatch(/SHADOW|ROOTDIR/);
    expect(out).not.toMatch(/^root:/m);
  });

  it("gets none of the descriptors Slipway's own parent left open (a shell's, a CI runner's)", () => {
    // The parent leaves descriptor 251 open; the child closes what it inherited, as the server does at start.
    const out = execFileSync('bash', ['-c', 'exec 251>/dev/null; exec "$1" --import tsx test/support/fd-child.ts', 'bash', process.execPath],
      { encoding: 'utf8', timeout: 60_000 });
    const { closed, seen } = JSON.parse(out) as { closed: number[]; seen: number[] };
    expect(closed).toContain(251);
    // stdin, stdout, stderr, and the listing's own descriptor.
    expect(seen.filter((fd) => fd > 3)).toEqual([]);
  });

  it('runs as an unprivileged user without capabilities, and cannot create user namespaces', async () => {
    const { out } = await attempt('echo "uid=$(id -u) gid=$(id -g)"; grep -E "^Cap(Eff|Prm|Bnd|Amb)|^NoNewPrivs" /proc/self/status; unshare -U true && echo USERNS; unshare -Ur true && echo USERNS_ROOT; true');
    const uid = Number(/uid=(\d+)/.exec(out)?.[1]);
    expect(uid).not.toBe(0);
    if (isRoot) expect(uid).toBe(sandboxHost().uid);
    for (const cap of ['CapEff', 'CapPrm', 'CapBnd', 'CapAmb']) expect(out).toMatch(new RegExp(`^${cap}:\\s+0{16}$`, 'm'));
    expect(out).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(out).not.toContain('USERNS');
  });

  it('is refused the kernel interfaces the seccomp filter closes (io_uring, bpf, perf events, userfaultfd, keyrings)', async () => {
    // perl-base is essential in Debian: a raw syscall without a compiler. getpid is the control.
    const calls = { io_uring_setup: '425, 1, 0', bpf: '321, 0, 0, 0', perf_event_open: '298, 0, 0, -1, -1, 0', userfaultfd: '323, 0', keyctl: '250, 0, 0', getpid: '39' };
    const script = Object.entries(calls).map(([name, args]) => `$r = syscall(${args}); print "${name} ", ($r < 0 ? "refused " . ($!+0) : "ok"), "\\n";`).join(' ');
    const { out } = await attempt(`perl -e '${script}'`);
    for (const name of ['io_uring_setup', 'bpf', 'perf_event_open', 'userfaultfd', 'keyctl']) expect(out).toContain(`${name} refused 38`);
    expect(out).toContain('getpid ok');
  });

  it("cannot write into its cgroups (to leave them) nor see the host's processes", async () => {
    const { out } = await attempt('for f in /sys/fs/cgroup/pids/cgroup.procs /sys/fs/cgroup/memory/cgroup.procs; do echo $$ > $f 2>/dev/null && echo "MOVED $f"; done; ls /proc | grep -cE "^[0-9]+$"');
    expect(out).not.toContain('MOVED');
    // Its own PID namespace: a handful of processes, not the host's hundreds.
    expect(Number(out.trim().split('\n').at(-1))).toBeLessThan(10);
  });

  describe('network', () => {
    let server: ReturnType<typeof createTcpServer>;
    let port: number;
    let accepted = 0;
    beforeAll(async () => {
      server = createTcpServer((socket) => { accepted++; socket.end('hello\n'); });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    const connect = (host: string): string => `timeout 2 bash -c 'exec 3<>/dev/tcp/${host}/PORT && head -1 <&3' && echo CONNECTED-${host} || echo REFUSED-${host}`;

    it("a build (outbound network) reaches neither the host's 127.0.0.1 ports nor the host through the gateway", async () => {
      const before = accepted;
      const { out } = await attempt(`${connect('127.0.0.1')}; export gw=$(ip route | awk '/default/{print $3}'); echo "gw=$gw"; ${connect('$gw')}`.replaceAll('PORT', String(port)), { network: { outbound: true } });
      expect(out).toContain('REFUSED-127.0.0.1');
      expect(out).toMatch(/gw=\S+/);
      expect(out).not.toContain('CONNECTED');
      expect(accepted).toBe(before);
    });

    describe("a build in a chain started ahead (its dirs under the data dir, as a build's)", () => {
      const limits = { diskBytes: 1024 ** 3 };
      let other: string;
      beforeAll(() => {
        // Another execution's workspace beside this one, the account's as a build leaves it.
        other = join(dataDir, 'work', 'e2', 'workspace');
        mkdirSync(other, { recursive: true });
        writeFileSync(join(other, 'secret.txt'), SECRET, { mode: 0o644 });
        if (isRoot) execFileSync('chown', ['-R', `${sandboxHost().uid}:${sandboxHost().gid}`, other]);
        warmUpSandbox({ dataDir, limits });
      });
      const chainUp = (): Promise<number> => eventually(() => (sandboxWarm() ? aheadPid() : undefined), 15_000, 'a chain started ahead');
      /** The chain's waiting shell: pasta's child. */
      const childOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).find((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'sh'));

      it('is as closed: no host port, no gateway, nothing of the data dir but its own workspace; the chain serves that one run', async () => {
        const chain = await chainUp();
        const netns = readlinkSync(`/proc/${childOf(chain)}/ns/net`);
        const before = accepted;
        const { out, result } = await attempt([
          'readlink /proc/self/ns/net', `cat ${join(other, 'secret.txt')} || echo OTHER-HIDDEN`, `cat ${join(dataDir, 'signing.key')} || echo KEY-HIDDEN`,
          // The staged roots lie under the sandbox's own /tmp (nothing but its tmpfs there).
          'ls -A /tmp | wc -l', 'echo mine > mine.txt',
          connect('127.0.0.1'), 'export gw=$(ip route | awk \'/default/{print $3}\'); echo "gw=$gw"', connect('$gw'),
        ].join('; ').replaceAll('PORT', String(port)), { network: { outbound: true }, limits });
        expect(result.exitCode, out).toBe(0);
        expect(out).toContain(netns);
        expect(out).not.toContain(SECRET);
        expect(out).toContain('OTHER-HIDDEN');
        expect(out).toContain('KEY-HIDDEN');
        expect(out).toMatch(/^0$/m);
        expect(readFileSync(join(workspace, 'mine.txt'), 'utf8')).toBe('mine\n');
        expect(out).toContain('REFUSED-127.0.0.1');
        expect(out).toMatch(/gw=\S+/);
        expect(out).not.toContain('CONNECTED');
        expect(accepted).toBe(before);
        // Used once: it ended with its run, its network with it (no process of it is left to hold
        // one: the kernel may give the next network the freed namespace's number); the next is another.
        expect(existsSync(`/proc/${chain}`)).toBe(false);
        const next = await chainUp();
        expect(next).not.toBe(chain);
      });

      it('no chain or launcher starts beside a run: the ones it took are the only ones until after it', async () => {
        await chainUp();
        const waiting = launcherPids();
        const launchers = new Set<number>();
        const running = attempt('sleep 2', { network: { outbound: true }, limits });
        const watch = setInterval(() => { for (const pid of launcherPids()) launchers.add(pid); }, 5);
        await running.finally(() => clearInterval(watch));
        // The run took its chain and its meter's launcher, and none was forked during the run.
        expect([...launchers].filter((pid) => !waiting.includes(pid))).toEqual([]);
        expect(launcherPids().length).toBeLessThan(waiting.length);
        // Then, a moment after the run, the next ones are forked.
        await chainUp();
      });
    });

    it('without a network it reaches nothing; with hostPorts exactly those ports (control)', async () => {
      const before = accepted;
      const none = await attempt(connect('127.0.0.1').replaceAll('PORT', String(port)));
      expect(none.out).toContain('REFUSED-127.0.0.1');
      expect(accepted).toBe(before);

      const allowed = await attempt(connect('127.0.0.1').replaceAll('PORT', String(port)), { network: { outbound: false, hostPorts: [port] } });
      expect(allowed.out).toContain('hello');
      expect(allowed.out).toContain('CONNECTED-127.0.0.1');
      expect(accepted).toBe(before + 1);
    });
  });

  it('a fork bomb is bounded by the pids limit, and the host stays responsive', async () => {
    const { value: { out, result }, answers } = await whileRunning(attempt(
      'bomb() { bomb | bomb & }; bomb; sleep 3; echo BOMB-DONE',
      { limits: { pids: 64 }, timeoutMs: 8_000 },
    ));
    expect(answers).toBeGreaterThan(0);
    if (isRoot) expect(out).toMatch(/fork|Resource temporarily unavailable/i);
    expect(result.timedOut || result.exitCode !== null).toBe(true);
  });

  it('a memory bomb is bounded by the memory limit', async () => {
    const { value: { out, result }, answers } = await whileRunning(attempt(
      "node -e 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))'; echo \"node exit $?\"",
      { limits: { memoryBytes: 128 * 1024 ** 2 }, timeoutMs: 30_000 },
    ));
    expect(answers).toBeGreaterThan(0);
    expect(result.timedOut).toBe(false);
    // Killed by the OOM killer (137) or by V8 running out of its heap: never a normal exit.
    expect(out).toMatch(/node exit (?!0)\d+/);
    if (isRoot) expect(result.outOfMemory).toBe(true);
  });

  it('filling the disk is stopped by the quota; one file never exceeds it; /tmp is capped too', async () => {
    const quota = 32 * 1024 ** 2;
    const big = await attempt('head -c 100M /dev/zero > big; ls -l big; head -c 100M /dev/zero > /tmp/big; echo "tmp exit $?"', { limits: { diskBytes: quota } });
    const size = Number(/^\S+\s+\S+\s+\S+\s+\S+\s+(\d+)/m.exec(big.out)?.[1]);
    expect(size).toBeLessThanOrEqual(quota);
    expect(big.out).toMatch(/tmp exit [1-9]/);
    rmSync(join(workspace, 'big'), { force: true });

    const { result } = await attempt('i=0; while :; do head -c 1048576 /dev/zero > fill$i || exit 1; i=$((i+1)); done', { limits: { diskBytes: quota }, timeoutMs: 60_000 });
    expect(result.diskQuotaExceeded).toBe(true);
    expect(result.timedOut).toBe(false);
    // Stopped within one watch interval of crossing the quota (the overshoot is documented).
    expect(await diskUsage([workspace])).toBeGreaterThan(quota);
    for (const f of readdirSync(workspace).filter((n) => n.startsWith('fill'))) rmSync(join(workspace, f));
  });

  it('a background process left behind is killed when the command ends', async () => {
    const marker = `${1000 + Math.floor(Math.random() * 8000)}.${process.pid}`;
    const { result } = await attempt(`(setsid sleep ${marker} &) ; nohup sleep ${marker} >/dev/null 2>&1 & echo left`);
    expect(result.exitCode).toBe(0);
    const deadline = Date.now() + 3_000;
    while (processesWith(marker).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(processesWith(marker)).toEqual([]);
  });

  it("cannot reach the pipe bubblewrap reports the command's end on, so it cannot end its run early", async () => {
    const running = attempt('sleep 1; for f in /proc/[0-9]*/fd/*; do readlink "$f"; done 2>/dev/null | sort -u; echo listed');
    // bubblewrap's monitor, outside the sandbox, holds the status pipe (sandbox-status.ts).
    const monitor = await eventually(() => processesWith(workspace).find((pid) => processesWith('--json-status-fd').includes(pid)), 15_000, 'the run');
    const statusPipe = readlinkSync(`/proc/${monitor}/fd/${STATUS_FD}`);
    const { out, result } = await running;
    expect(result.exitCode).toBe(0);
    expect(statusPipe).toMatch(/^(pipe|socket):\[\d+\]$/); // Node's pipes are socket pairs
    expect(out).toContain('listed');
    // Control: the command's own output pipe is in the listing; the status pipe is not.
    expect(out).toMatch(/^(pipe|socket):\[\d+\]$/m);
    expect(out).not.toContain(statusPipe);
  });

  it('works in a workspace under a root-owned 0700 data dir, owned by the sandbox user afterwards', async () => {
    if (!isRoot) return;
    const { out, result } = await attempt('echo made > made.txt && echo OK');
    expect(result.exitCode).toBe(0);
    expect(out).toContain('OK');
    const owner = execFileSync('stat', ['-c', '%u', join(workspace, 'made.txt')], { encoding: 'utf8' }).trim();
    expect(Number(owner)).toBe(sandboxHost().uid);
  });
});
