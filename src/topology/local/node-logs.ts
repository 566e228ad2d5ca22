// The local driver's environment logs, as Cloud Manager names them. What each name holds:
//
// | service    | name          | what it is (one file per node and UTC day)                          |
// |------------|---------------|---------------------------------------------------------------------|
// | author     | aemerror      | the author app's stdout and stderr                                  |
// | publish    | aemerror      | publish i's stdout and stderr                                       |
// | publish    | aemaccess     | the requests publish i received from its dispatcher (varnishncsa -b) |
// | publish    | aemrequest    | the same requests in AEM's request.log form: -> request, <- status  |
// | dispatcher | httpdaccess   | dispatcher i's client requests, Apache combined format (varnishncsa) |
// | dispatcher | aemdispatcher | dispatcher i's cache decisions: hit, miss, pass, synth (varnishncsa) |
// | dispatcher | httpderror    | varnishd's own output and its log readers' errors                   |
// | cdn        | cdn           | HAProxy's HTTP log: every request through the load balancer         |
//
// The app nodes, varnishd and HAProxy write their spools themselves (nodes.ts gives each a
// <name>.log); the varnishncsa readers, one per dispatcher and log, run detached like the
// nodes (recorded in logs/loggers.json) so they outlive Slipway too. log-spool.ts turns the
// spools into day files.
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Environment } from '../../domain/model.ts';
import { dayOf, type EnvironmentLogs, type LogOption, type NodeLogDay } from '../driver.ts';
import { LB_CHECK_AGENT } from './haproxy.ts';
import { isOurProcess, spawnDetached, stopProcess, type ProcessRecord } from './proc.ts';
import { collectSpools, dayFile, DEFAULT_SPOOL_LIMITS, type SpoolLimits } from './log-spool.ts';
import { loadState, type DispatcherState, type TopologyState } from './state.ts';

interface CatalogEntry extends LogOption {
  /** The spool streams of the option, in node order. */
  streams(state: TopologyState): string[];
}

const pairs = (suffix: string) => (s: TopologyState) => s.dispatchers.map((d) => `${d.name}${suffix}`);

export const LOG_CATALOG: readonly CatalogEntry[] = [
  { service: 'author', name: 'aemerror', streams: (s) => [s.author.name] },
  { service: 'publish', name: 'aemerror', streams: (s) => s.publish.map((p) => p.name) },
  { service: 'publish', name: 'aemaccess', streams: pairs('.backend') },
  { service: 'publish', name: 'aemrequest', streams: pairs('.requests') },
  { service: 'dispatcher', name: 'httpdaccess', streams: pairs('.access') },
  { service: 'dispatcher', name: 'aemdispatcher', streams: pairs('.decisions') },
  { service: 'dispatcher', name: 'httpderror', streams: pairs('') },
  { service: 'cdn', name: 'cdn', streams: () => ['loadBalancer'] },
];

// The load balancer checks each dispatcher twice a second: those requests are left out.
const CLIENT = ['-c', '-q', `not ReqHeader:User-Agent eq "${LB_CHECK_AGENT}"`];
const BACKEND = ['-b', '-q', `not BereqHeader:User-Agent eq "${LB_CHECK_AGENT}"`];

/** The varnishncsa readers of a dispatcher: the stream each writes and how it reads. */
const TIME = '%{%d/%b/%Y:%T %z}t';
const READERS: readonly { suffix: string; args: string[] }[] = [
  { suffix: '.access', args: CLIENT }, // the default format is Apache's combined log
  { suffix: '.backend', args: BACKEND },
  { suffix: '.requests', args: [...BACKEND, '-F', `${TIME} [%{Varnish:vxid}x] -> %m %U%q %H\\n${TIME} [%{Varnish:vxid}x] <- %s %{Content-Type}o %{ms}Tms`] },
  {
    suffix: '.decisions',
    args: [...CLIENT, '-F', `[${TIME}] [I] [%{Varnish:vxid}x] "%m %U%q %H" %s %{Varnish:time_firstbyte}xs [%{Varnish:handling}x] %{X-Dispatcher}o`],
  },
];

export function allStreams(state: TopologyState): string[] {
  return [...new Set(LOG_CATALOG.flatMap((entry) => entry.streams(state)))];
}

type LoggerRecords = Record<string, ProcessRecord>;

export class LocalEnvironmentLogs implements EnvironmentLogs {
  private readonly known = new Set<string>();
  /** Environments being destroyed: nothing may recreate their directories. */
  private readonly closing = new Set<string>();
  private readonly timer?: NodeJS.Timeout;
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly envDirOf: (env: Pick<Environment, 'id'>) => string,
    private readonly opts: { limits?: SpoolLimits; collectEveryMs?: number; stopGraceMs?: number; log?: (line: string) => void } = {}) {
    if (opts.collectEveryMs !== 0) {
      this.timer = setInterval(() => { void this.tick(); }, opts.collectEveryMs ?? 5000);
      this.timer.unref();
    }
  }

  options(): LogOption[] {
    return LOG_CATALOG.map(({ service, name }) => ({ service, name }));
  }

  async days(env: Environment, option: LogOption, date: string): Promise<NodeLogDay[]> {
    // Only today's files still grow: earlier days are read as they are.
    const state = date === dayOf(new Date()) ? await this.collect(env) : await loadState(this.envDirOf(env));
    const entry = LOG_CATALOG.find((e) => e.service === option.service && e.name === option.name);
    if (!state || !entry) return [];
    const found: NodeLogDay[] = [];
    for (const [i, stream] of entry.streams(state).entries()) {
      const size = await stat(dayFile(join(state.dir, 'logs'), date, stream)).then((s) => s.size, () => undefined);
      if (size !== undefined) found.push({ node: i + 1, stream, date, size });
    }
    return found;
  }

  async open(env: Environment, stream: string, date: string): Promise<{ path: string; size: number } | undefined> {
    const state = await this.collect(env);
    if (!state || !allStreams(state).includes(stream)) return undefined;
    const path = dayFile(join(state.dir, 'logs'), date, stream);
    const size = await stat(path).then((s) => s.size, () => undefined);
    return size === undefined ? undefined : { path, size };
  }

  /** Collects the environment's spools now (one collection at a time per environment). */
  async collect(env: Pick<Environment, 'id'>): Promise<TopologyState | undefined> {
    const dir = this.envDirOf(env);
    if (this.closing.has(env.id)) return undefined;
    try {
      const state = await loadState(dir);
      if (!state) return undefined;
      this.known.add(env.id);
      await this.serially(env.id, async () => {
        if (this.closing.has(env.id)) return;
        await collectSpools(join(dir, 'logs'), allStreams(state), new Date(), this.opts.limits ?? DEFAULT_SPOOL_LIMITS);
      });
      return this.closing.has(env.id) ? undefined : state;
    } catch (e) {
      // Destroyed while we collected: it has no logs any more.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** One collection or reader start at a time per environment in this process. */
  private serially(id: string, job: () => Promise<void>): Promise<void> {
    const next = (this.running.get(id) ?? Promise.resolve()).catch(() => undefined).then(job);
    this.running.set(id, next);
    return next;
  }

  /** Starts the varnishncsa readers that are not running (at provision, adopt and each tick). */
  ensureReaders(state: TopologyState): Promise<void> {
    this.closing.delete(state.environmentId);
    this.known.add(state.environmentId);
    return this.serially(state.environmentId, () => this.startMissingReaders(state));
  }

  private async startMissingReaders(state: TopologyState): Promise<void> {
    if (this.closing.has(state.environmentId)) return;
    const logDir = join(state.dir, 'logs');
    const records = await loadRecords(logDir);
    let changed = false;
    for (const d of state.dispatchers) {
      for (const reader of READERS) {
        const stream = `${d.name}${reader.suffix}`;
        if (isOurProcess(records[stream])) continue;
        records[stream] = startReader(d, reader.args, join(logDir, `${stream}.log`), logDir);
        changed = true;
      }
    }
    if (changed) await saveRecords(logDir, records);
  }

  /** Stops the readers and collecting, before the environment's directory is removed. */
  async stopReaders(env: Pick<Environment, 'id'>): Promise<void> {
    this.known.delete(env.id);
    this.closing.add(env.id);
    await this.running.get(env.id)?.catch(() => undefined);
    const logDir = join(this.envDirOf(env), 'logs');
    const records = await loadRecords(logDir);
    await Promise.all(Object.values(records).map((r) => stopProcess(r, this.opts.stopGraceMs ?? 5000)));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    for (const id of [...this.known]) {
      try {
        const state = await this.collect({ id });
        if (state) await this.serially(id, () => this.startMissingReaders(state));
        else this.known.delete(id);
      } catch (e) {
        this.opts.log?.(`environment ${id}: collecting logs failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}

/** `-t off`: wait for varnishd's shared memory however long it takes (and after its restarts). */
function startReader(d: DispatcherState, args: readonly string[], spool: string, logDir: string): ProcessRecord {
  const argv = ['varnishncsa', '-n', d.workDir, '-t', 'off', '-a', '-w', spool, ...args];
  // Its own complaints go to the dispatcher's spool: they show up in httpderror.
  return spawnDetached(argv, { cwd: logDir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC' },
    logFile: join(logDir, `${d.name}.log`) }).record;
}

async function loadRecords(logDir: string): Promise<LoggerRecords> {
  try {
    return JSON.parse(await readFile(join(logDir, 'loggers.json'), 'utf8')) as LoggerRecords;
  } catch {
    return {};
  }
}

async function saveRecords(logDir: string, records: LoggerRecords): Promise<void> {
  await mkdir(logDir, { recursive: true });
  const file = join(logDir, 'loggers.json');
  await writeFile(`${file}.tmp`, JSON.stringify(records, null, 2));
  await rename(`${file}.tmp`, file);
}
