// A throwaway PostgreSQL cluster in a temporary directory, from Debian's binaries: no shared
// server is assumed. The suite starts one (global setup); each test file makes its own database.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { freePort } from '../../src/runner/free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = join(root, v, 'bin', name);
    if (existsSync(p)) return p;
  }
  throw new Error(`PostgreSQL binary ${name} not found under ${root} (apt-get install postgresql)`);
}


export interface PostgresCluster {
  url: string;
  dir: string;
  /** Stops the server (a fast shutdown: clients are disconnected), keeping its data. */
  halt(): void;
  /** Starts a halted server again, on the same port. */
  resume(): void;
  /** `pg_ctl restart -m fast`. */
  restart(): void;
  stop(): void;
}

/** initdb + pg_ctl start as the `postgres` user when run as root (PostgreSQL refuses root). */
export async function startPostgres(): Promise<PostgresCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-pg-'));
  chmodSync(dir, 0o755);
  const asRoot = process.getuid?.() === 0;
  const run = (bin: string, args: string[]) => {
    const cmd = asRoot ? 'runuser' : bin;
    const full = asRoot ? ['-u', 'postgres', '--', bin, ...args] : args;
    const r = spawnSync(cmd, full, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${bin} failed: ${r.stderr || r.stdout}`);
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  run(pgBin('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const ctl = (action: string, ...extra: string[]) => run(pgBin('pg_ctl'), [
    '-D', data, '-l', join(dir, 'log'), '-w', ...extra, '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, action,
  ]);
  ctl('start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    halt: () => ctl('stop', '-m', 'fast'),
    resume: () => ctl('start'),
    restart: () => ctl('restart', '-m', 'fast'),
    stop() {
      try {
        run(pgBin('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

let counter = 0;
/** A fresh, empty database on the suite's cluster; returns its URL. */
export async function createDatabase(adminUrl: string, prefix = 't'): Promise<string> {
  const name = `${prefix}_${process.pid}_${Date.now()}_${counter++}`;
  await onCluster(adminUrl, `CREATE DATABASE ${name}`);
  return adminUrl.replace(/\/[^/]*$/, `/${name}`);
}

/** Runs `sql` on the cluster as its admin (CREATE/DROP DATABASE, CHECKPOINT: outside any database's clients). */
export async function onCluster(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
