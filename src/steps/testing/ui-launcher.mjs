// First process of a UI test run, inside the test bundle's sandbox (as the unprivileged user):
// starts the bundle's own chromedriver, waits until it is ready, runs the test command and ends
// with its exit code. So the browser a test drives (whatever `goog:chromeOptions.binary` it
// asks for) runs in the same isolation as the test, never on the host.
// Input: argv[2] = JSON {chromedriver, port, command, log}.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';

const job = JSON.parse(process.argv[2] ?? '{}');
const url = `http://127.0.0.1:${job.port}`;
const logFd = openSync(job.log, 'a');
// TMPDIR: the sandbox's private /tmp. Chromium puts its singleton socket in its profile's temp
// dir; under a deep work dir that path exceeds the 108 bytes of a unix socket and it won't start.
const driver = spawn(job.chromedriver, [`--port=${job.port}`, '--allowed-ips=127.0.0.1'], {
  stdio: ['ignore', logFd, logFd], env: { ...process.env, TMPDIR: '/tmp' },
});
let driverExit;
driver.on('exit', (code, signal) => { driverExit = code ?? signal; });
driver.on('error', (err) => { driverExit = err.message; });

async function ready(deadline) {
  while (Date.now() < deadline && driverExit === undefined) {
    try {
      const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2000) });
      if ((await res.json())?.value?.ready) return true;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

// Generous: on a loaded machine (two cores, other browsers starting) it took over 20 s once.
if (!(await ready(Date.now() + 60_000))) {
  console.log(`chromedriver did not start (${driverExit ?? 'no answer'}; see ${job.log})`);
  driver.kill('SIGKILL');
  process.exit(125);
}
console.log(`chromedriver ${driver.pid} listening on ${url} as uid ${process.getuid()}`);
const test = spawn('/bin/sh', ['-c', job.command], { stdio: 'inherit' });
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => test.kill(signal));
test.on('exit', (code, signal) => {
  driver.kill('SIGTERM');
  process.exit(code ?? (signal ? 128 : 1));
});
