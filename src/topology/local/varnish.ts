// The dispatcher on this machine: its VCL (two slots on the loopback), and Varnish's admin CLI
// (a kept connection, varnish-cli.ts; varnishadm when there is none). varnishadm is always
// given `-n WORKDIR` alone: it refuses -n together with -S/-T.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DispatcherPackage } from '../../domain/contract.ts';
import { compilePattern } from '../../domain/patterns.ts';
import { generateVcl as generateDispatcherVcl } from '../../domain/vcl.ts';
import { CliUnavailable, cliCommand } from './varnish-cli.ts';

const run = promisify(execFile);

export { DISPATCHER_HEALTH_PATH } from '../../domain/vcl.ts';

/** Backend names of the two slots, in slot order (see generateVcl). */
export const SLOT_BACKENDS = ['slot_a', 'slot_b'] as const;

export type AdminHealth = 'healthy' | 'sick' | 'auto';

export interface VclInput {
  dispatcherName: string;
  /** The pair's two fixed publish ports, declared as backends slot_a and slot_b. */
  slotPorts: readonly [number, number];
  healthPath: string;
  pkg: DispatcherPackage;
}

/** The VCL of a local pair: its two slots on this machine's loopback (src/domain/vcl.ts). */
export function generateVcl(input: VclInput): string {
  return generateDispatcherVcl({
    dispatcherName: input.dispatcherName,
    backends: SLOT_BACKENDS.map((name, i) => ({ name, host: '127.0.0.1', port: input.slotPorts[i] ?? 0 })),
    healthPath: input.healthPath,
    pkg: input.pkg,
  });
}

/** Does any cache rule with a positive TTL match this path? (Warm-up expects a HIT only then.) */
export function isCacheable(pkg: DispatcherPackage, path: string): boolean {
  for (const rule of pkg.cache) {
    if (compilePattern(rule.match).test(path)) return rule.ttlSeconds > 0; // first match wins
  }
  return false;
}

export class VarnishAdmin {
  constructor(private readonly workDir: string) {}

  /** One CLI command: on the kept connection (varnish-cli.ts), else through varnishadm. */
  async adm(...args: string[]): Promise<string> {
    try {
      const answer = await cliCommand(this.workDir, args, 15_000);
      if (answer.status === 200 || answer.status === 201) return answer.body;
      throw new Error(`varnish ${this.workDir}: ${args.join(' ')}: ${answer.status} ${answer.body.trim()}`);
    } catch (err) {
      if (!(err instanceof CliUnavailable)) throw err;
    }
    const { stdout } = await run('varnishadm', ['-n', this.workDir, ...args], { timeout: 15_000 });
    return stdout;
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.adm('status')).includes('running');
    } catch {
      return false;
    }
  }

  /**
   * Routes to `active` (0 or 1): that slot is forced healthy first, then the other sick, so
   * at no moment is neither selectable, and the fallback director keeps using the slot that
   * was active until the other is marked sick. Then reads the states back: the caller stops
   * the old process only once Varnish reports the switch. `vcl` names a loaded but not yet
   * active VCL; without it the active VCL is meant.
   */
  async routeTo(active: 0 | 1, vcl?: string): Promise<void> {
    const prefix = vcl ? `${vcl}.` : '';
    const want: [string, AdminHealth][] = [[SLOT_BACKENDS[active], 'healthy'], [SLOT_BACKENDS[1 - active] ?? '', 'sick']];
    for (const [backend, health] of want) await this.adm('backend.set_health', `${prefix}${backend}`, health);
    const seen = await this.adminHealth(`${prefix}slot_*`);
    for (const [backend, health] of want) {
      if (seen.get(backend) !== health) {
        throw new Error(`varnish ${this.workDir}: ${backend} is ${seen.get(backend) ?? 'missing'}, expected ${health}`);
      }
    }
  }

  /** Admin health per backend name (without its VCL prefix): probe, healthy or sick. */
  async adminHealth(pattern: string): Promise<Map<string, string>> {
    const parsed = JSON.parse(await this.adm('backend.list', '-j', pattern)) as unknown[];
    const backends = (parsed[3] ?? {}) as Record<string, { admin_health?: string }>;
    const out = new Map<string, string>();
    for (const [name, info] of Object.entries(backends)) {
      const health = info.admin_health === 'probe' ? 'auto' : info.admin_health ?? '';
      out.set(name.slice(name.lastIndexOf('.') + 1), health);
    }
    return out;
  }

  async ban(pathPrefixes?: readonly string[]): Promise<void> {
    if (!pathPrefixes || pathPrefixes.length === 0) {
      await this.adm('ban', 'req.url', '~', '.');
      return;
    }
    for (const prefix of pathPrefixes) {
      await this.adm('ban', 'req.url', '~', `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
    }
  }

  async cacheStats(): Promise<{ hits: number; misses: number }> {
    const { stdout } = await run('varnishstat', ['-n', this.workDir, '-j', '-f', 'MAIN.cache_hit', '-f', 'MAIN.cache_miss'],
      { timeout: 10_000 });
    const parsed = JSON.parse(stdout) as { counters?: Record<string, { value?: number }> };
    const counters = parsed.counters ?? {};
    return { hits: counters['MAIN.cache_hit']?.value ?? 0, misses: counters['MAIN.cache_miss']?.value ?? 0 };
  }
}
