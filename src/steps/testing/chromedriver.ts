// The UI tests' chromedriver: started by ui-launcher.mjs inside the test bundle's container or
// sandbox, so it, the Chromium it starts and any `binary` a test asks it for run as the
// unprivileged user with the bundle's network (its own loopback plus the stage environment),
// never on the host. Debian's chromedriver has the same path on the host and in the test base.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMEDRIVER_PATH } from './browser.ts';
import type { RunPlaces } from './bundle-request.ts';

const LAUNCHER = fileURLToPath(new URL('./ui-launcher.mjs', import.meta.url));

/** The isolated command line that runs `command` next to its own chromedriver on `port`. */
export function withChromedriver(command: string, port: number, places: RunPlaces): string {
  return places.nodeScript(LAUNCHER, { chromedriver: CHROMEDRIVER_PATH, port, command, log: join(places.home, 'chromedriver.log') });
}

export function chromedriverUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}
