// A Slipway stand-in for the crash test: runs one deploy in its own process, printing each
// progress record and each "done" record (what the deploy step keeps to resume) as a JSON line,
// so the test can kill it with SIGKILL mid-roll.
import { FsArtifactStore } from '../../src/artifacts/fs-store.ts';
import type { Release } from '../../src/topology/driver.ts';
import { environment, makeDriver, type DriverName } from './support.ts';

const [dataDir = '', envId = '', count = '3', releaseJson = '{}', driverName = 'local'] = process.argv.slice(2);
const driver = makeDriver(driverName as DriverName, { dataDir, store: new FsArtifactStore(dataDir) });
const outcome = await driver.deploy(environment(envId, Number(count), driverName as DriverName), JSON.parse(releaseJson) as Release, {
  batchSize: 1, maxDrainMs: 5000, signal: new AbortController().signal,
  log: () => undefined,
  onProgress: (p) => process.stdout.write(`${JSON.stringify(p)}\n`),
  onDone: (done) => process.stdout.write(`${JSON.stringify({ done })}\n`),
});
process.stdout.write(`${JSON.stringify({ outcome })}\n`);
driver.close();
