// The browser the testing steps give repository content: Debian's Chromium and chromedriver,
// always started inside the sandbox as the unprivileged user (never on the host).
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMEDRIVER_PATH = '/usr/bin/chromedriver';

/**
 * The Chromium flags that work on this machine (docs/machine-recipes.md, item 3). `--no-sandbox`
 * only because Slipway's own sandbox contains the browser: Chromium's would need the user
 * namespaces that sandbox refuses.
 */
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
