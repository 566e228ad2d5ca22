// The UI tests' chromedriver: started by ui-launcher.mjs inside the test bundle's sandbox, so
// it, the Chromium it starts and any `binary` a test asks it for run as the unprivileged user
// with the bundle's network (its own loopback plus the stage environment), never on the host.
import { fileURLToPath } from 'node:url';
import { nodeScriptCommand } from '../../runner/node-script.ts';
import { CHROMEDRIVER_PATH } from './browser.ts';

const LAUNCHER = fileURLToPath(new URL('./ui-launcher.mjs', import.meta.url));

/** The sandboxed command line that runs `command` next to its own chromedriver on `port`. */
export function withChromedriver(command: string, port: number, logFile: string): string {
  return nodeScriptCommand(LAUNCHER, { chromedriver: CHROMEDRIVER_PATH, port, command, log: logFile });
}

export function chromedriverUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}
