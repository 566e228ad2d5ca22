// The sample site's own build, as Slipway runs it: `npm ci && npm test && npm run build`
// offline, JUnit and lcov reports, the dist/ image; and the variants that break the build.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseContract, parseDispatcherPackage } from '../../src/domain/contract.ts';
import { SAMPLE_SITE_DIR } from '../support/sample-repo.ts';
import { cleanUp, lcovLineCoverage, runCommand, sampleCopy, summariseJUnit } from './harness.ts';

afterAll(cleanUp);

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');

describe('sample site build', () => {
  it('declares a valid contract and dispatcher package', () => {
    const contract = parseContract(parse(read(SAMPLE_SITE_DIR, 'slipway.yaml')));
    expect(contract.build.command).toBe('npm ci && npm test && npm run build');
    expect(contract.app).toEqual({ output: 'dist', start: 'node src/server.js', health: '/health' });
    expect(contract.tests.functional?.path).toBe('tests/functional');
    expect(contract.tests.ui?.path).toBe('tests/ui');
    expect(contract.audit?.paths).toEqual(['/', '/about.html', '/products.html']);
    const dispatcher = parseDispatcherPackage(parse(read(SAMPLE_SITE_DIR, 'dispatcher/dispatcher.yaml')));
    expect(dispatcher.deny).toEqual(expect.arrayContaining(['^/author', '^/admin', '^/\\.']));
    expect(dispatcher.warm).toEqual(['/', '/about.html', '/assets/site.css']);
    expect(read(SAMPLE_SITE_DIR, 'tests/ui/testing.properties')).toMatch(/^ui-tests\.version=1$/m);
  });

  it('has no npm dependencies', () => {
    const pkg = JSON.parse(read(SAMPLE_SITE_DIR, 'package.json')) as Record<string, unknown>;
    const lock = JSON.parse(read(SAMPLE_SITE_DIR, 'package-lock.json')) as { lockfileVersion: number; packages: object };
    for (const key of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
      expect(pkg[key]).toBeUndefined();
    }
    expect(lock.lockfileVersion).toBe(3);
    expect(Object.keys(lock.packages)).toEqual(['']);
  });

  it('runs the contract build command offline and writes the reports and dist/', async () => {
    const dir = await sampleCopy();
    const result = await runCommand(dir, 'bash', ['-c', 'npm ci --offline --no-audit --no-fund && npm test && npm run build'],
      { npm_config_cache: join(dir, '.npm-cache') });
    expect(result.code, result.stdout + result.stderr).toBe(0);

    const junit = summariseJUnit(read(dir, 'reports/junit/unit.xml'));
    expect(junit.tests).toBeGreaterThanOrEqual(25);
    expect(junit.failures).toBe(0);
    expect(junit.skipped).toBeLessThanOrEqual(1);

    const coverage = lcovLineCoverage(read(dir, 'coverage/lcov.info'));
    expect(coverage.ratio).toBeGreaterThan(0.8);
    expect(coverage.files.length).toBeGreaterThanOrEqual(5);
    expect(coverage.files.every((f) => f.startsWith('src/'))).toBe(true);

    for (const file of ['src/server.js', 'src/app.js', 'public/assets/site.css', 'public/assets/logo.svg', 'package.json']) {
      expect(existsSync(join(dir, 'dist', file)), file).toBe(true);
    }
    expect(existsSync(join(dir, 'dist/test'))).toBe(false);
    expect(existsSync(join(dir, 'dist/node_modules'))).toBe(false);
  });

  it('fails npm test for the failingUnitTest variant, with the failure in JUnit', async () => {
    const dir = await sampleCopy('failingUnitTest');
    const result = await runCommand(dir, 'npm', ['test']);
    expect(result.code).not.toBe(0);
    const junit = summariseJUnit(read(dir, 'reports/junit/unit.xml'));
    expect(junit.failed).toEqual(['the products page lists the new life jacket']);
  });

  it('passes npm test with coverage under 50% for the lowCoverage variant', async () => {
    const dir = await sampleCopy('lowCoverage');
    const result = await runCommand(dir, 'npm', ['test']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(lcovLineCoverage(read(dir, 'coverage/lcov.info')).ratio).toBeLessThan(0.5);
  });
});
