// Varnish's admin CLI over its own TCP socket, one authenticated connection kept per work dir:
// a command is one round trip (about a millisecond) instead of a varnishadm process (15-50 ms
// on a busy machine), which counts while a pair is out of the load balancer (switch, flush).
// The address and the secret are found where varnishadm finds them: the manager's shared-memory
// index in the work dir (`_.vsm_mgt/_.index`, its `Arg -T` and `Arg -S` segments). The caller
// falls back to varnishadm whenever no connection can be had (CliUnavailable).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';

/** No connection to Varnish's CLI: nothing was sent, varnishadm may run the command instead. */
export class CliUnavailable extends Error {}

/** A CLI answer: status 200 (or 201, truncated) is success, as for varnishadm. */
export interface CliAnswer {
  status: number;
  body: string;
}

/** Varnish's answer to its challenge: sha256 of challenge, newline, the secret file, challenge, newline. */
export function authResponse(challenge: string, secret: Buffer): string {
  return createHash('sha256').update(`${challenge}\n`).update(secret).update(`${challenge}\n`).digest('hex');
}

/** The newest `Arg <flag>` segment of the manager's index, read as text. */
async function managerArg(workDir: string, flag: string): Promise<string> {
  const dir = join(workDir, '_.vsm_mgt');
  const index = await readFile(join(dir, '_.index'), 'utf8');
  const entry = index.split('\n').map((l) => l.split(' ')).filter((f) => f[0] === '+' && f[4] === 'Arg' && f[5] === flag).at(-1);
  const [file, offset, length] = [entry?.[1], Number(entry?.[2]), Number(entry?.[3])];
  if (!file || !Number.isInteger(offset) || !Number.isInteger(length) || file.includes('/')) throw new Error(`no ${flag} in ${dir}`);
  const raw = await readFile(join(dir, file));
  return raw.subarray(offset, offset + length).toString('utf8').replace(/\0.*$/s, '').trim();
}

/** Reads whole CLI answers off a socket: a 13-byte header "SSS LLLLLLLL\n", the body, a newline. */
class AnswerReader {
  private buffered = Buffer.alloc(0);
  private waiting: { resolve: (a: CliAnswer) => void; reject: (e: Error) => void } | undefined;
  private failed: Error | undefined;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => { this.buffered = Buffer.concat([this.buffered, chunk]); this.deliver(); });
    const fail = (err: Error) => { this.failed ??= err; this.waiting?.reject(err); this.waiting = undefined; };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('varnish CLI connection closed')));
  }

  next(): Promise<CliAnswer> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => { this.waiting = { resolve, reject }; this.deliver(); });
  }

  private deliver(): void {
    if (!this.waiting || this.buffered.length < 13) return;
    const header = this.buffered.subarray(0, 13).toString('latin1');
    const status = Number(header.slice(0, 3));
    const length = Number(header.slice(4, 12).trim());
    if (!Number.isInteger(status) || !Number.isInteger(length)) {
      this.waiting.reject(new Error(`varnish CLI: bad answer header ${JSON.stringify(header)}`));
      this.waiting = undefined;
      return;
    }
    if (this.buffered.length < 13 + length + 1) return;
    const body = this.buffered.subarray(13, 13 + length).toString('utf8');
    this.buffered = this.buffered.subarray(13 + length + 1);
    const { resolve } = this.waiting;
    this.waiting = undefined;
    resolve({ status, body });
  }
}

interface Connection {
  socket: Socket;
  reader: AnswerReader;
}

async function open(workDir: string, timeoutMs: number): Promise<Connection> {
  const [address, secretFile] = await Promise.all([managerArg(workDir, '-T'), managerArg(workDir, '-S')]);
  const [host = '', port = ''] = address.split(/\s+/);
  const secret = await readFile(secretFile);
  const socket = connect({ host, port: Number(port) });
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error('varnish CLI timeout')));
  const reader = new AnswerReader(socket);
  try {
    const hello = await reader.next();
    if (hello.status === 107) {
      socket.write(`auth ${authResponse(hello.body.slice(0, 32), secret)}\n`);
      const auth = await reader.next();
      if (auth.status !== 200) throw new Error(`varnish CLI auth: ${auth.status}`);
    } else if (hello.status !== 200) {
      throw new Error(`varnish CLI: ${hello.status} ${hello.body}`);
    }
  } catch (err) {
    socket.destroy();
    throw err;
  }
  socket.setTimeout(0);
  socket.unref(); // idle: a kept connection must not hold Slipway (or a test) open
  return { socket, reader };
}

/** Kept connections by work dir, and each one's queue (the CLI answers one command at a time). */
const connections = new Map<string, Promise<Connection>>();
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs one CLI command on dispatcher `workDir`'s kept connection (opened on first use). Throws
 * CliUnavailable when no connection could be opened (nothing sent); an error after the command
 * was sent is thrown as it is, and the connection is dropped.
 */
export function cliCommand(workDir: string, args: readonly string[], timeoutMs: number): Promise<CliAnswer> {
  const run = async (): Promise<CliAnswer> => {
    let pending = connections.get(workDir);
    if (!pending) {
      pending = open(workDir, timeoutMs);
      connections.set(workDir, pending);
    }
    let conn: Connection;
    try {
      conn = await pending;
      if (conn.socket.destroyed) throw new Error('closed');
    } catch (err) {
      connections.delete(workDir);
      throw new CliUnavailable(`varnish CLI of ${workDir}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const timer = setTimeout(() => conn.socket.destroy(new Error(`varnish CLI timeout: ${args[0] ?? ''}`)), timeoutMs);
    conn.socket.ref(); // an answer awaited keeps the process alive, as a varnishadm child would
    try {
      // Joined with spaces, unquoted, as varnishadm sends its arguments; a newline would end the command.
      if (args.some((a) => a.includes('\n'))) throw new Error('varnish CLI: a newline in an argument');
      conn.socket.write(`${args.join(' ')}\n`);
      return await conn.reader.next();
    } catch (err) {
      connections.delete(workDir);
      conn.socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
      conn.socket.unref();
    }
  };
  const next = (queues.get(workDir) ?? Promise.resolve()).catch(() => undefined).then(run);
  queues.set(workDir, next);
  return next;
}
