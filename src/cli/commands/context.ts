// What every client command needs: the client, the chosen program, and output that is a
// table for people or JSON for scripts.
import type { Command } from 'commander';
import { SlipwayClient } from '../client.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { resolveClientSettings } from '../settings.ts';

export interface GlobalOptions {
  baseUrl?: string;
  token?: string;
  json?: boolean;
  program?: string;
}

export interface CommandContext {
  client: SlipwayClient;
  json: boolean;
  programId(): Promise<string>;
  /** Prints `data` as JSON with --json, otherwise the human form. */
  print(data: unknown, human: () => string): void;
  /** Progress for people; always on stderr so stdout stays clean for pipes. */
  progress(line: string): void;
}

export function contextOf(command: Command, env: NodeJS.ProcessEnv = process.env): CommandContext {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const client = new SlipwayClient(resolveClientSettings({ baseUrl: opts.baseUrl, token: opts.token }, env));
  const json = Boolean(opts.json);
  return {
    client,
    json,
    async programId() {
      const given = opts.program ?? env.SLIPWAY_PROGRAM?.trim();
      if (given) return given;
      // Like Cloud Manager's CLI a program must be named, unless there is only one to choose.
      const programs = await client.listPrograms();
      if (programs.length === 1 && programs[0]) return programs[0].id;
      throw new CliError(
        programs.length === 0 ? 'there are no programs yet' : `${programs.length} programs: choose one with --program/-p (or SLIPWAY_PROGRAM)`,
        EXIT.configuration,
      );
    },
    print(data, human) {
      process.stdout.write(`${json ? JSON.stringify(data, null, 2) : human()}\n`);
    },
    progress(line) {
      process.stderr.write(`${line}\n`);
    },
  };
}

/** Wraps an action so that it gets the context, its own options and the positional arguments. */
export function action<O extends object, A extends (string | undefined)[]>(fn: (ctx: CommandContext, opts: O, ...args: A) => Promise<void>) {
  return async function (this: Command, ...raw: unknown[]): Promise<void> {
    const args = raw.slice(0, -2) as A;
    await fn(contextOf(this), this.opts<O>(), ...args);
  };
}
