// When a sandboxed command has ended, learnt as soon as it has, not when the sandbox's own
// processes have. bubblewrap reports the command's exit code on a pipe of ours (STATUS_FD,
// --json-status-fd) once the sandbox's init has been reaped: by then the kernel has killed and
// reaped every process of the sandbox's PID namespace, so no repository code runs any more.
// What is left, pasta and bubblewrap's monitor (Slipway's tools, outside that namespace), ends
// meanwhile: pasta's own exit takes ~20 ms (bench: build-overhead), the build packs its outputs
// then. Nothing inside the sandbox holds the pipe: bubblewrap keeps it out of the sandbox, so
// repository code can neither write a status nor hold it open.
import type { Readable } from 'node:stream';

/** The fd bubblewrap writes its JSON status lines to (sandbox-command.ts). */
export const STATUS_FD = 5;

/**
 * The command's exit code ("n", or 128+n for signal n, as a shell reports it), once bubblewrap
 * reports it; undefined when the status pipe ends without it (bubblewrap killed, or refused to
 * start: the run's own end then tells).
 */
export function reportedExit(status: Readable): Promise<number | undefined> {
  return new Promise((resolve) => {
    let text = '';
    status.setEncoding('utf8');
    status.on('data', (chunk: string) => {
      text += chunk;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        const code = exitCodeOf(line);
        if (code !== undefined) resolve(code);
      }
    });
    status.on('error', () => resolve(undefined));
    status.on('close', () => resolve(undefined));
  });
}

/** The exit-code member of one status line; other lines (child-pid, later additions) are skipped. */
function exitCodeOf(line: string): number | undefined {
  try {
    const value = (JSON.parse(line) as Record<string, unknown>)['exit-code'];
    return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Resolves once what the command wrote before it ended has been delivered. It is all in the
 * output pipe already (the writers are gone), and a pipe with data is reported readable at the
 * next poll of the event loop: so, once a whole turn of the loop (two immediates: the second
 * one runs after a poll) has delivered no more output. `delivered` counts chunks so far.
 */
export async function outputDelivered(delivered: () => number): Promise<void> {
  for (let seen = -1; seen !== delivered();) {
    seen = delivered();
    await turn();
    await turn();
  }
}
