// How a step's failure reads: the reason a person sees on the step, in the API and the UI.
// A full disk is named as such (with the directory to clean), not as a bare errno.

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

export function failureReason(error: unknown, dataDir: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && DISK_FULL.has(code)) {
    return `disk full: no space left for Slipway's data directory (${dataDir}); free space and run the pipeline again (${message})`;
  }
  return message;
}

/** Runs `fn`, ignoring what it throws: for best-effort bookkeeping on a path that already reports a failure. */
export function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // the caller is already reporting a failure
  }
}
