// Step logs: one append-only file per step and log name under the data directory. Each write
// goes straight to the file (a kill -9 loses nothing already written), byte ranges are
// streamed from the file (for HTTP Range: never a whole range in memory), and live subscribers
// (a log read that waits for more, `wait=`) hear of every chunk as it lands. A log stops growing at `maxBytes`: a step that prints without
// end cannot fill the disk, and the log says where and why it was cut.
import { EventEmitter } from 'node:events';
import { closeSync, createReadStream, existsSync, fstatSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { SecretMasker } from './mask.ts';

/** Appends to a step's durable log. */
export interface LogWriter {
  write(text: string | Buffer): void;
  line(text: string): void;
  /** Resolves once everything written so far is durable. */
  flush(): Promise<void>;
}

const LOG_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class LogStore {
  private readonly live = new EventEmitter();
  private readonly maxBytes: number;

  constructor(private readonly dataDir: string, options: { maxBytes?: number } = {}) {
    this.live.setMaxListeners(0);
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  /** The file of a step's log; `name` is validated, so it can come from a query string. */
  pathOf(stepId: string, name = 'main'): string | undefined {
    if (!/^\d+$/.test(stepId) || !LOG_NAME.test(name)) return undefined;
    return join(this.dataDir, 'logs', stepId, `${name}.log`);
  }

  /** Opens a writer that masks `secrets`; close() flushes the masker's held-back bytes. */
  open(stepId: string, name = 'main', secrets: string[] = []): LogWriter & { close(): void } {
    const path = this.pathOf(stepId, name);
    if (!path) throw new Error(`bad log name ${stepId}/${name}`);
    const key = `${stepId}/${name}`;
    let closed = false;
    // The file is opened (created) on the first write: a step that logs nothing costs no file
    // system work. A retried step appends to the same file: the cap counts what earlier
    // attempts wrote, read from the file once it is open.
    let fd: number | undefined;
    let written = 0;
    let cut = false;
    const open = () => {
      mkdirSync(join(this.dataDir, 'logs', stepId), { recursive: true });
      fd = openSync(path, 'a');
      written = fstatSync(fd).size;
      cut = written >= this.maxBytes;
    };
    const append = (chunk: Buffer) => {
      writeSync(fd!, chunk);
      written += chunk.length;
      this.live.emit(key, chunk);
    };
    const masker = new SecretMasker(secrets, (chunk) => {
      if (fd === undefined) open();
      if (cut) return;
      const room = this.maxBytes - written;
      if (chunk.length <= room) return append(chunk);
      if (room > 0) append(chunk.subarray(0, room));
      cut = true;
      append(Buffer.from(`\n[slipway] log cut at ${this.maxBytes} bytes (the per-step limit, SLIPWAY_MAX_LOG_BYTES): later output of this step is dropped\n`));
    });
    return {
      write: (text) => {
        if (!closed) masker.write(typeof text === 'string' ? Buffer.from(text) : text);
      },
      line(text) {
        this.write(`${text}\n`);
      },
      flush: async () => undefined,
      close: () => {
        if (closed) return;
        closed = true;
        masker.end();
        if (fd !== undefined) closeSync(fd);
        this.live.emit(`${key}:end`);
      },
    };
  }

  size(stepId: string, name = 'main'): number | undefined {
    const path = this.pathOf(stepId, name);
    if (!path || !existsSync(path)) return undefined;
    return statSync(path).size;
  }

  /** A stream of bytes [start, end) of a log; undefined when the log does not exist. */
  stream(stepId: string, name: string, start: number, end: number): Readable | undefined {
    const path = this.pathOf(stepId, name);
    if (!path || !existsSync(path)) return undefined;
    // createReadStream's `end` is inclusive; an empty range is an empty stream.
    return end > start ? createReadStream(path, { start, end: end - 1, highWaterMark: 64 * 1024 }) : Readable.from([]);
  }

  /** Live chunks of a log as they are written (in this process); returns the unsubscribe. */
  subscribe(stepId: string, name: string, onChunk: (chunk: Buffer) => void, onEnd?: () => void): () => void {
    const key = `${stepId}/${name}`;
    const end = () => onEnd?.();
    this.live.on(key, onChunk);
    this.live.on(`${key}:end`, end);
    return () => {
      this.live.off(key, onChunk);
      this.live.off(`${key}:end`, end);
    };
  }
}
