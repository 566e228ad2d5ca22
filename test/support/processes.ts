// Live processes on the host whose command line contains a text (a step's work dir, a port):
// what tests use to prove that nothing of a step was left running.
import { readdirSync, readFileSync } from 'node:fs';

export interface HostProcess { pid: number; uid: number; cmdline: string }

function describe(pid: number): HostProcess | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    if (/^State:\s+[ZX]/m.test(status)) return undefined;
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
    return { pid, uid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() };
  } catch {
    return undefined;
  }
}

export function hostProcesses(text: string): HostProcess[] {
  const found: HostProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const info = describe(Number(entry));
    if (info?.cmdline.includes(text)) found.push(info);
  }
  return found;
}

/** Pids of live processes whose command line contains `text`. */
export function processesWith(text: string): number[] {
  return hostProcesses(text).map((p) => p.pid);
}
