// A webhook endpoint for tests: a real HTTP server on 127.0.0.1 that answers Adobe I/O's
// challenge, records every POST (raw body and headers) and answers with the status the test
// chooses per call (e.g. 500 twice, then 200).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  body: string;
  headers: IncomingHttpHeaders;
  status: number;
  /** When it arrived (epoch ms). */
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** The challenges asked (GET ?challenge=X). */
  challenges: string[];
  /** The status for the n-th POST (0-based); default 200; 0 = never answer (a hanging endpoint). */
  statusFor: (n: number) => number;
  /** What a challenge GET gets back: echo (default), or a fixed text. */
  challengeAnswer?: string;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = { url: '', received: [], challenges: [], statusFor: () => 200, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET') {
      receiver.challenges.push(url.searchParams.get('challenge') ?? '');
      res.end(receiver.challengeAnswer ?? url.searchParams.get('challenge') ?? '');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = receiver.statusFor(receiver.received.length);
      receiver.received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers, status, at: Date.now() });
      if (status === 0) return;
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return receiver;
}

/** The received POSTs that were answered 2xx, parsed. */
export const accepted = (r: Receiver) =>
  r.received.filter((x) => x.status >= 200 && x.status < 300).map((x) => JSON.parse(x.body) as { event_id: string; event: Record<string, unknown>; slipway: Record<string, string> });
