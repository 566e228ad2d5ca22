// A drained pair made fit to serve again, before it goes back into the load balancer: its
// dispatcher's cache flushed, filled again on the dispatcher package's warm paths (the first
// visitors then find it warm), and the app's health checked through the dispatcher, the way
// the load balancer and the visitors reach it.
import { allSettledOrThrow } from './all-settled.ts';
import { DeployFailure } from './deploy-steps.ts';
import { httpGet, isHealthy, POLL_MS, waitFor } from './http.ts';
import type { ProvisionedEnv } from './provisioned-env.ts';
import { isCacheable } from './varnish.ts';

export class WarmUp {
  constructor(private readonly env: ProvisionedEnv) {}

  async flush(i: number): Promise<void> {
    await this.env.varnish(i).ban();
  }

  /**
   * Requests each warm path through dispatcher i until it is a cache HIT (or, if uncacheable, a
   * 2xx), the paths side by side. A 2xx MISS is asked again at once: that answer filled the cache.
   */
  async warm(i: number): Promise<string[]> {
    const d = this.env.dispatcher(i);
    const pkg = await this.env.images.dispatcherPackage(d.release?.dispatcherImage);
    const warmOne = async (path: string): Promise<string> => {
      const wantHit = isCacheable(pkg, path);
      let last = 'no answer';
      // Only one try without a pause: a path Varnish will not keep answers MISS every time.
      let atOnce = false;
      const ok = await waitFor(async () => {
        const followsMiss = atOnce;
        atOnce = false;
        try {
          const res = await httpGet(d.port, path, 5000);
          last = `${res.status} ${String(res.headers['x-cache'] ?? '')}`;
          const success = res.status >= 200 && res.status < 300;
          atOnce = !followsMiss && success && res.headers['x-cache'] === 'MISS';
          return success && (!wantHit || res.headers['x-cache'] === 'HIT');
        } catch (err) {
          last = String(err);
          return false;
        }
      }, { timeoutMs: this.env.opts.warmTimeoutMs, intervalMs: POLL_MS, again: () => atOnce });
      if (!ok) throw new DeployFailure(`${d.name}: warm-up of ${path} failed (last: ${last})`);
      return path;
    };
    await allSettledOrThrow(pkg.warm.map(warmOne));
    return pkg.warm;
  }

  async healthThrough(i: number): Promise<void> {
    const d = this.env.dispatcher(i);
    const path = this.env.healthPathOf(this.env.publish(i));
    const ok = await waitFor(() => isHealthy(d.port, path),
      { timeoutMs: this.env.opts.healthTimeoutMs, intervalMs: 50 });
    if (!ok) throw new DeployFailure(`${d.name}: health check of ${path} through the dispatcher failed`);
  }
}
