import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('has defaults for everything', () => {
    const c = loadConfig({});
    expect(c.dataDir).toMatch(/\.slipway$/);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.port).toBe(8080);
    expect(c.adminTokenGenerated).toBe(true);
    expect(c.adminToken).toMatch(/^slw_/);
  });

  it('takes the SLIPWAY_* variables', () => {
    const c = loadConfig({
      SLIPWAY_DATA: '/tmp/x', SLIPWAY_DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', SLIPWAY_PORT: '9090',
      SLIPWAY_ADMIN_TOKEN: 'a-long-enough-admin-token', SLIPWAY_PUBLIC_URL: 'https://deploy.example.com/slipway/',
      SLIPWAY_ALLOWED_GIT_HOSTS: 'git.internal, 10.0.0.5',
    });
    expect(c).toMatchObject({
      dataDir: '/tmp/x', databaseUrl: 'postgres://u@127.0.0.1:5432/db', port: 9090, adminTokenGenerated: false,
      publicUrl: 'https://deploy.example.com/slipway', allowedGitHosts: ['git.internal', '10.0.0.5'],
    });
  });

  it.each([
    ['SLIPWAY_PORT', 'eighty'], ['SLIPWAY_PORT', '70000'], ['SLIPWAY_DATABASE_URL', 'mysql://x'], ['SLIPWAY_ADMIN_TOKEN', 'short'],
    ['SLIPWAY_SECRETS_KEY', 'not-a-key'], ['SLIPWAY_SECRETS_KEY', 'ab'.repeat(16)], ['SLIPWAY_PROGRAM_CONCURRENCY', '0'],
    ['SLIPWAY_ACTIVE_ENGINES', '0'], ['SLIPWAY_ACTIVE_ENGINES', 'all'],
    ['SLIPWAY_MAX_LOG_BYTES', '1e6'],
    ['SLIPWAY_TEST_ISOLATION', 'docker'],
    ['SLIPWAY_PUBLIC_URL', 'deploy.example.com'], ['SLIPWAY_PUBLIC_URL', 'ftp://x'], ['SLIPWAY_PUBLIC_URL', 'https://x/?a=1'],
    ['SLIPWAY_ALLOWED_GIT_HOSTS', 'a b'], ['SLIPWAY_REGISTRY', 'https://registry.example.com'], ['SLIPWAY_REGISTRY', 'r.example.com/Team'],
  ])('a bad %s stops start-up with a message that names it', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^${variable}:`));
  });

  it('takes the secrets key, fair-share quota and log cap settings', () => {
    const hex = 'ab'.repeat(32);
    const c = loadConfig({
      SLIPWAY_DATA: '/tmp/x', SLIPWAY_SECRETS_KEY: hex, SLIPWAY_PROGRAM_CONCURRENCY: '3', SLIPWAY_ACTIVE_ENGINES: '2', SLIPWAY_MAX_LOG_BYTES: '1048576',
    });
    expect(c.secretsKey?.toString('hex')).toBe(hex);
    expect(c).toMatchObject({ secretsKeyFile: '/tmp/x/secrets.key', programConcurrency: 3, activeEngines: 2, maxLogBytes: 1048576 });
    expect(loadConfig({ SLIPWAY_SECRETS_KEY: Buffer.alloc(32, 1).toString('base64') }).secretsKey).toEqual(Buffer.alloc(32, 1));
    expect(loadConfig({ SLIPWAY_DATA: '/tmp/x', SLIPWAY_SECRETS_KEY_FILE: '/etc/slipway/key' }).secretsKeyFile).toBe('/etc/slipway/key');
    expect(loadConfig({}).maxLogBytes).toBe(50 * 1024 * 1024);
  });

  it('takes a registry to push to, with its TLS setting and auth file', () => {
    expect(loadConfig({}).registry).toBeUndefined();
    expect(loadConfig({ SLIPWAY_DATA: '/tmp/x', SLIPWAY_REGISTRY: 'registry.example.com:5000/team', SLIPWAY_REGISTRY_AUTH_FILE: 'push-auth.json' }).registry)
      .toEqual({ location: 'registry.example.com:5000/team', tlsVerify: true, authFile: '/tmp/x/push-auth.json' });
    expect(loadConfig({ SLIPWAY_REGISTRY: '127.0.0.1:5000', SLIPWAY_REGISTRY_TLS_VERIFY: 'false' }).registry?.tlsVerify).toBe(false);
    expect(() => loadConfig({ SLIPWAY_REGISTRY: 'r.example.com', SLIPWAY_REGISTRY_TLS_VERIFY: 'no' })).toThrow(/^SLIPWAY_REGISTRY_TLS_VERIFY:/);
  });
});
