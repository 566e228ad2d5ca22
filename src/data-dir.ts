// The data directory holds the database, the signing and secrets keys, logs and artifacts:
// only Slipway's own user may enter it. New files get 0600 through the process umask (set by
// the server process); what an older version left readable is tightened at every start.
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const DATA_DIR_MODE = 0o700;
export const DATA_FILE_MODE = 0o600;
/** The server's bootstrap admin token, kept in the data directory for the CLI beside it. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** Files created from here on are readable by their owner only (processes, not worker threads). */
export function restrictUmask(): void {
  process.umask(0o077);
}

/**
 * Makes the data directory 0700 and its top-level files 0600. Below it, nothing needs a walk:
 * a 0700 parent already keeps every other user out of the whole tree.
 */
export function secureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: DATA_DIR_MODE });
  chmodSync(dataDir, DATA_DIR_MODE);
  for (const name of readdirSync(dataDir)) {
    const path = join(dataDir, name);
    // Another process closing the database removes its -wal and -shm files between the listing
    // and here: a file that is gone needs no tightening.
    try {
      const stat = lstatSync(path);
      if (stat.isFile() && (stat.mode & 0o077) !== 0) chmodSync(path, DATA_FILE_MODE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
