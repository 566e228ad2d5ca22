import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readConfig } from '../../src/config.js';
import { checkHealth } from '../../src/health.js';

test('readConfig has publish-mode defaults and the package version', () => {
  const config = readConfig({}, '1.0.0');
  assert.equal(config.mode, 'publish');
  assert.equal(config.version, '1.0.0');
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 8080);
  assert.equal(config.dataDir, undefined);
  assert.equal(config.shutdownGraceMs, 10_000);
});

test('readConfig takes APP_VERSION, APP_MODE, PORT and APP_DATA_DIR from the environment', () => {
  const config = readConfig({ APP_VERSION: '2024.1.7', APP_MODE: 'author', PORT: '0', APP_DATA_DIR: '/tmp/d',
    SHUTDOWN_GRACE_MS: '500' }, '1.0.0');
  assert.deepEqual([config.version, config.mode, config.port, config.dataDir, config.shutdownGraceMs],
    ['2024.1.7', 'author', 0, '/tmp/d', 500]);
});

test('readConfig rejects a bad mode or port', () => {
  assert.throws(() => readConfig({ APP_MODE: 'preview' }, '1'), /APP_MODE/);
  assert.throws(() => readConfig({ PORT: 'eighty' }, '1'), /PORT/);
  assert.throws(() => readConfig({ PORT: '70000' }, '1'), /PORT/);
});

test('checkHealth is ok when every check passes', () => {
  assert.deepEqual(checkHealth('1.0.0', [() => ({ name: 'a', ok: true })]),
    { statusCode: 200, body: { status: 'ok', version: '1.0.0' } });
});

test('checkHealth fails on a failing or throwing check', () => {
  const result = checkHealth('1.0.0', [
    () => ({ name: 'db', ok: false, detail: 'down' }),
    function disk() { throw new Error('full'); },
  ]);
  assert.equal(result.statusCode, 500);
  assert.equal(result.body.status, 'failing');
  assert.deepEqual(result.body.failed.map((f) => f.name), ['db', 'disk']);
});
