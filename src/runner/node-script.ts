// The shell line that runs one of Slipway's own Node scripts (a browser launcher, the Lighthouse
// child) as a sandboxed command: the node running Slipway, the script, one JSON argument.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A word the shell reads back as exactly `arg`. */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

export function nodeScriptCommand(script: string, input: unknown): string {
  return `exec ${[process.execPath, script, JSON.stringify(input)].map(shellQuote).join(' ')}`;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE_PREFIX = dirname(dirname(process.execPath));

/**
 * What such a script needs of Slipway's own files, to bind read-only into its sandbox: the
 * checkout may sit where the sandbox user cannot enter (a 0700 home or temp directory), and
 * node itself may be installed there too. Only src/ and node_modules/, never the checkout's
 * root, where the data directory may live.
 */
const NODE_PATHS = NODE_PREFIX === '/usr' || NODE_PREFIX === '/' ? [] : [NODE_PREFIX];

export const SCRIPT_READ_ONLY_PATHS: readonly string[] = [join(ROOT, 'src'), join(ROOT, 'node_modules'), ...NODE_PATHS];

/** Less than SCRIPT_READ_ONLY_PATHS, for a script that imports nothing but Node's own modules. */
export function standaloneScriptPaths(script: string): string[] {
  return [dirname(script), ...NODE_PATHS];
}
