// Step logs: one append-only file per step and log name under the data directory. Each write
// goes straight to the file (a kill -9 loses nothing already written), byte ranges are read
// with positioned reads (for HTTP Range), and live subscribers get every chunk as it lands.
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { LogWriter } from '../steps/handler.ts';
import { SecretMasker } from '../runner/mask.ts';

const LOG_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class LogStore {
  private readonly live = new EventEmitter();

  constructor(private readonly dataDir: string) {
    this.live.setMaxListeners(0);
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
    // The file is created on the first write: a step that logs nothing costs no file system work.
    let fd: number | undefined;
    const masker = new SecretMasker(secrets, (chunk) => {
      if (fd === undefined) {
        mkdirSync(join(this.dataDir, 'logs', stepId), { recursive: true });
        fd = openSync(path, 'a');
      }
      writeSync(fd, chunk);
      this.live.emit(key, chunk);
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

  /** Bytes [start, end) of a log; undefined when the log does not exist. */
  read(stepId: string, name: string, start: number, end: number): Buffer | undefined {
    const path = this.pathOf(stepId, name);
    if (!path || !existsSync(path)) return undefined;
    const length = Math.max(0, Math.min(end, statSync(path).size) - start);
    const buf = Buffer.alloc(length);
    const fd = openSync(path, 'r');
    try {
      let read = 0;
      while (read < length) {
        const n = readSync(fd, buf, read, length - read, start + read);
        if (n === 0) break;
        read += n;
      }
      return buf.subarray(0, read);
    } finally {
      closeSync(fd);
    }
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
