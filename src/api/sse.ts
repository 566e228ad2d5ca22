// What every server-sent event stream shares: the frame format, the heartbeat, closing on
// shutdown and on client disconnect, one read per event for all streams, frames written in
// the order of their events, and a bound on what a slow client can make the server hold.
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from 'fastify';

export const HEARTBEAT_MS = 15_000;
/**
 * What a stream may hold for a client that does not read: bytes Node has buffered, frames
 * still waiting for their read. Beyond either the stream ends; the client reconnects and
 * reads the current state afresh, so nothing is lost and memory stays bounded.
 */
export const MAX_BUFFERED_BYTES = 1 << 20;
export const MAX_PENDING_FRAMES = 500;

export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The open streams of a route module; each is ended when the server closes. */
export function streamsClosedOnShutdown(app: FastifyInstance): Set<ServerResponse> {
  const open = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });
  return open;
}

/**
 * The state after an event, read once for every stream that receives it: keyed by the event
 * itself (the bus hands each subscriber the same object), so a read is never older than the
 * commit that announced it. The first caller's `args` make the read (they must be the same for
 * every stream that receives the event).
 */
export function sharedReader<E extends object, A extends unknown[], T>(
  read: (e: E, ...args: A) => Promise<T>,
): (e: E, ...args: A) => Promise<T> {
  const reads = new WeakMap<E, Promise<T>>();
  return (e, ...args) => {
    let value = reads.get(e);
    if (!value) {
      value = read(e, ...args);
      reads.set(e, value);
    }
    return value;
  };
}

export interface EventStream {
  /** Queues a frame (a promise: its read may still run); frames go out in the order queued. */
  send(frame: string | Promise<string>, then?: () => void): void;
  end(): void;
  readonly ended: boolean;
}

/**
 * Takes over the reply as an event stream: the head, heartbeats, cleanup (`onEnd`, once) on
 * client disconnect, shutdown or end(). A frame that cannot be made or written ends the stream.
 */
export function openEventStream(
  reply: FastifyReply, open: Set<ServerResponse>, log: FastifyBaseLogger, onEnd: () => void,
): EventStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  // Headers out now: a client knows it is subscribed once they arrive, before any event.
  res.flushHeaders();
  open.add(res);
  let pending = 0;
  let written = Promise.resolve();
  const write = (text: string) => {
    res.write(text);
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      log.warn({ buffered: res.writableLength }, 'event stream client too slow: stream ended');
      end(true);
    }
  };
  const heartbeat = setInterval(() => write(': heartbeat\n\n'), HEARTBEAT_MS);
  let ended = false;
  /** `cut`: the client is not reading, so what is buffered for it is dropped, not flushed. */
  function end(cut = false): void {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    onEnd();
    open.delete(res);
    if (cut) res.destroy();
    else if (!res.writableEnded) res.end();
  }
  res.on('close', end);
  return {
    get ended() { return ended; },
    end: () => end(),
    send(frame, then) {
      if (ended) return;
      if (++pending > MAX_PENDING_FRAMES) {
        log.warn('event stream frames piling up: stream ended');
        end(true);
        return;
      }
      written = written.then(async () => {
        const text = await frame;
        pending--;
        if (ended) return;
        write(text);
        then?.();
      }).catch((err: unknown) => {
        log.warn({ err }, 'event stream frame failed');
        end();
      });
    },
  };
}
