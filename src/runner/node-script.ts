// The shell line that runs one of Slipway's own Node scripts (a browser launcher, the Lighthouse
// child) as a sandboxed command: the node running Slipway, the script, one JSON argument.
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

export function nodeScriptCommand(script: string, input: unknown): string {
  return `exec ${[process.execPath, script, JSON.stringify(input)].map(shellQuote).join(' ')}`;
}
