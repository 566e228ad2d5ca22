// `npm test`: runs the unit tests with Node's built-in runner and writes
//   reports/junit/unit.xml  (JUnit XML, read by Slipway's build step)
//   coverage/lcov.info      (line/branch coverage of src/ only, read by the code-quality step)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const testDir = 'test/unit';
const files = readdirSync(testDir).filter((f) => f.endsWith('.test.js')).sort().map((f) => join(testDir, f));
rmSync('reports/junit', { recursive: true, force: true });
rmSync('coverage', { recursive: true, force: true });
mkdirSync('reports/junit', { recursive: true });
mkdirSync('coverage', { recursive: true });

const result = spawnSync(process.execPath, [
  '--disable-warning=MaxListenersExceededWarning',
  '--test',
  '--experimental-test-coverage',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=junit', '--test-reporter-destination=reports/junit/unit.xml',
  '--test-reporter=lcov', '--test-reporter-destination=coverage/lcov.info',
  ...files,
], { stdio: 'inherit' });

// Node 20 measures every loaded file, tests included; keep only the application's sources.
const lcov = readFileSync('coverage/lcov.info', 'utf8');
const records = lcov.split(/^end_of_record\s*$/m).filter((r) => /^SF:src\//m.test(r));
writeFileSync('coverage/lcov.info', records.map((r) => `${r.trim()}\nend_of_record\n`).join(''));

process.exit(result.status ?? 1);
