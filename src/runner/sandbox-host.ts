// What this machine offers the sandbox: bubblewrap, pasta (user-mode networking), whether
// Slipway runs as root, and the unprivileged account repository code runs as. Read once per
// process; the command builder itself (sandbox-command.ts) stays pure.
import { existsSync, readFileSync } from 'node:fs';

export const BWRAP = '/usr/bin/bwrap';
export const PASTA = '/usr/bin/pasta';
export const SETPRIV = '/usr/bin/setpriv';
/** The account scripts/ensure-deps.sh creates for repository code. */
export const SANDBOX_USER = 'slipway-run';
/** Used when SANDBOX_USER is missing (a machine set up without ensure-deps.sh); logged. */
const FALLBACK_USER = 'nobody';

export interface RunAs { user: string; uid: number; gid: number }

/** The command prefix that drops root to `runAs`: its uid and gid, no groups, no capabilities. */
export function dropRights(runAs: RunAs): string[] {
  return [SETPRIV, '--reuid', String(runAs.uid), '--regid', String(runAs.gid), '--clear-groups', '--inh-caps=-all', '--'];
}

export interface SandboxHost {
  bwrap: boolean;
  pasta: boolean;
  /**
   * Set when Slipway runs as root: the run drops to this account before bubblewrap starts
   * (setpriv), so bubblewrap itself is unprivileged. Undefined for an ordinary Slipway user:
   * the run keeps that uid inside its own user namespace.
   */
  runAs?: RunAs;
  /** The uid/gid inside the sandbox (runAs, or Slipway's own). */
  uid: number;
  gid: number;
  notices: string[];
}

function lookupUser(name: string): RunAs | undefined {
  let passwd: string;
  try { passwd = readFileSync('/etc/passwd', 'utf8'); } catch { return undefined; }
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid && gid) return { user, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

let detected: SandboxHost | undefined;

export function sandboxHost(): SandboxHost {
  if (detected) return detected;
  const notices: string[] = [];
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  let runAs: RunAs | undefined;
  if (uid === 0) {
    runAs = lookupUser(SANDBOX_USER);
    if (!runAs) {
      runAs = lookupUser(FALLBACK_USER);
      notices.push(`sandbox: user ${SANDBOX_USER} missing (run scripts/ensure-deps.sh as root); repository code runs as ${FALLBACK_USER}`);
    }
  }
  detected = {
    bwrap: existsSync(BWRAP),
    pasta: existsSync(PASTA),
    ...(runAs ? { runAs } : {}),
    uid: runAs?.uid ?? uid,
    gid: runAs?.gid ?? gid,
    notices,
  };
  return detected;
}
