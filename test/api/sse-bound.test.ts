// An event stream to a client that stops reading holds a bounded amount: once Node buffers
// more than MAX_BUFFERED_BYTES for it, the stream ends (the client reconnects and reads
// afresh). A real server and a real socket that never reads.
import { connect, type Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_BUFFERED_BYTES, openEventStream, sseFrame, streamsClosedOnShutdown, type EventStream } from '../../src/api/sse.ts';
import { eventually } from '../support/slipway.ts';

let app: FastifyInstance | undefined;
let socket: Socket | undefined;
afterAll(async () => {
  socket?.destroy();
  await app?.close();
});

describe('a slow event-stream client', () => {
  it('is cut off once its unread frames pass the bound, instead of growing the server\'s memory', async () => {
    app = Fastify();
    const open = streamsClosedOnShutdown(app);
    let stream: EventStream | undefined;
    let ended = false;
    let heldAtMost = 0;
    app.get('/stream', async (req, reply) => {
      stream = openEventStream(reply, open, req.log, () => { ended = true; });
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = new URL(address);
    socket = connect(Number(port), '127.0.0.1');
    socket.write('GET /stream HTTP/1.1\r\nHost: test\r\n\r\n');
    // The client never reads (paused), so the kernel's buffers fill, then Node's.
    socket.pause();
    await eventually(async () => stream !== undefined, 10_000, () => 'the stream to open');
    const frame = sseFrame('step.updated', { padding: 'x'.repeat(64 * 1024) });
    let sent = 0;
    while (!ended && sent < 1000) {
      stream!.send(frame);
      sent++;
      await new Promise((r) => setImmediate(r));
      const raw = [...open][0];
      if (raw) heldAtMost = Math.max(heldAtMost, raw.writableLength);
    }
    expect(ended).toBe(true);
    expect(stream!.ended).toBe(true);
    expect(open.size).toBe(0);
    // What Node held for the client never went past the bound by more than one frame.
    expect(heldAtMost).toBeLessThanOrEqual(MAX_BUFFERED_BYTES + frame.length);
  });
});
