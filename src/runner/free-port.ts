// A free TCP port on 127.0.0.1 for a server that needs its number up front (environment nodes,
// chromedriver). Ports are drawn at random from below the kernel's ephemeral range: there,
// no outgoing connection can take a node's port as its source port while the node restarts,
// and no other process's bind(0) is handed it between our check and the server's bind.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const FALLBACK_EPHEMERAL_START = 32768;
const LOWEST = 10000;

/** The first port of the kernel's ephemeral range (Linux), or the usual default. */
function ephemeralStart(): number {
  try {
    const [start] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return start && start > LOWEST + 1000 ? start : FALLBACK_EPHEMERAL_START;
  } catch {
    return FALLBACK_EPHEMERAL_START;
  }
}

const RANGE_END = ephemeralStart();

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (RANGE_END - LOWEST));
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port between ${LOWEST} and ${RANGE_END}`);
}
