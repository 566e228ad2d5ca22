// Environment logs, with the command names of Adobe's CLI: list-available-log-options,
// download-logs (every node's day file, unzipped, named as Adobe's library names them) and
// tail-log (today's file followed with Range requests until it is gone).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Command } from 'commander';
import { ApiError, ConnectionError } from '../client.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { table } from '../format.ts';
import { embedded, expandTemplate, linkOf, REL, type EnvironmentView, type HalResource } from '../hal.ts';
import { action, type CommandContext } from './context.ts';

interface LogOptionView { service: string; name: string }
interface Download extends HalResource { service: string; name: string; date: string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function environment(ctx: CommandContext, environmentId: string): Promise<EnvironmentView & { availableLogOptions?: LogOptionView[] }> {
  const env = (await ctx.client.listEnvironments(await ctx.programId())).find((e) => e.id === environmentId);
  if (!env) throw new CliError(`there is no environment ${environmentId}`, EXIT.notFound);
  return env;
}

async function downloadsOf(ctx: CommandContext, environmentId: string, service: string, name: string, days: number): Promise<Download[]> {
  const env = await environment(ctx, environmentId);
  const template = linkOf(env, `${REL}logs`);
  if (!template) throw new CliError(`environment ${environmentId} offers no logs`, EXIT.notFound);
  return embedded<Download>(await ctx.client.get<HalResource>(expandTemplate(template, { service, name, days })), 'downloads');
}

function hrefs(resource: HalResource, relation: string): string[] {
  const link = resource._links?.[relation];
  return (Array.isArray(link) ? link : link ? [link] : []).map((l) => l.href);
}

async function fetchOrFail(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    throw new ConnectionError(url, error);
  }
}

export function registerEnvironmentLogCommands(program: Command): void {
  program.command('list-available-log-options')
    .description('the logs an environment keeps: service and log name')
    .argument('<environmentId>')
    .action(action<object, [string]>(async (ctx, _opts, environmentId) => {
      const options = (await environment(ctx, environmentId)).availableLogOptions ?? [];
      ctx.print(options, () => table(['SERVICE', 'NAME'], options.map((o) => [o.service, o.name])));
    }));

  program.command('download-logs')
    .description('downloads a log of the last days, one file per node and day')
    .argument('<environmentId>').argument('<service>').argument('<name>').argument('[days]', 'days back, 1 to 7', '1')
    .option('-o, --output-directory <dir>', 'where to write the files', '.')
    .action(action<{ outputDirectory: string }, [string, string, string, string]>(async (ctx, opts, environmentId, service, name, days) => {
      const downloads = await downloadsOf(ctx, environmentId, service, name, Number(days));
      mkdirSync(opts.outputDirectory, { recursive: true });
      const written: { path: string; date: string; bytes: number }[] = [];
      for (const download of downloads) {
        const links = hrefs(download, `${REL}logs/download`);
        for (const [i, href] of links.entries()) {
          const { redirect } = await ctx.client.get<{ redirect: string }>(href);
          const res = await fetchOrFail(ctx.client.url(redirect));
          if (!res.ok) throw new ApiError(res.status, `HTTP ${res.status}`, `downloading ${download.date}`);
          const text = gunzipSync(Buffer.from(await res.arrayBuffer()));
          const path = join(opts.outputDirectory, `${environmentId}-${service}-${name}-${download.date}${links.length > 1 ? `-${i}` : ''}.log`);
          writeFileSync(path, text);
          written.push({ path, date: download.date, bytes: text.length });
        }
      }
      ctx.print(written, () => (written.length === 0 ? 'no logs in those days'
        : table(['DATE', 'BYTES', 'FILE'], written.map((w) => [w.date, w.bytes, w.path]))));
    }));

  program.command('tail-log')
    .description('follows today\'s log of a service (the first node\'s, like Adobe\'s CLI) until it is gone')
    .argument('<environmentId>').argument('<service>').argument('<name>')
    .option('--interval <seconds>', 'pause between reads when nothing is new', '2')
    .action(action<{ interval: string }, [string, string, string]>(async (ctx, opts, environmentId, service, name) => {
      const pause = Math.max(0.2, Number(opts.interval) || 2) * 1000;
      const tailUrl = async (): Promise<{ url: string; date: string }> => {
        const [today] = await downloadsOf(ctx, environmentId, service, name, 1);
        const url = today && hrefs(today, `${REL}logs/tail`)[0];
        if (!today || !url) throw new CliError(`no ${service} ${name} log today`, EXIT.notFound);
        return { url, date: today.date };
      };
      let { url, date } = await tailUrl();
      let offset = Number((await fetchOrFail(url, { method: 'HEAD' })).headers.get('content-length') ?? 0);
      for (;;) {
        const res = await fetchOrFail(url, { headers: { range: `bytes=${offset}-` } });
        if (res.status === 206) {
          const bytes = Buffer.from(await res.arrayBuffer());
          process.stdout.write(bytes);
          offset += bytes.length;
          continue;
        }
        await res.arrayBuffer();
        if (res.status === 404) throw new CliError(`the ${service} ${name} log is gone`, EXIT.notFound);
        if (res.status !== 416) throw new ApiError(res.status, `HTTP ${res.status}`, 'tailing the log');
        await sleep(pause);
        // A new UTC day: the rest of the old day's file was read above; go on with the new one
        // once it exists.
        if (new Date().toISOString().slice(0, 10) !== date) {
          const next = await tailUrl().catch(() => undefined);
          if (next && next.date !== date) {
            ({ url, date } = next);
            offset = 0;
          }
        }
      }
    }));
}
