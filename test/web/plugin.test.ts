// The UI plugin: static files with their content types, the CSP, and nothing outside src/web/static.
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { CSP, webPlugin } from '../../src/web/plugin.ts';

describe('webPlugin', () => {
  it('serves the UI with content types and a CSP, once even if registered twice', async () => {
    const app = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
    await app.register(webPlugin);
    await app.register(webPlugin);
    try {
      const index = await app.inject({ url: '/ui/' });
      expect(index.statusCode).toBe(200);
      expect(index.headers['content-type']).toMatch(/^text\/html/);
      expect(index.headers['content-security-policy']).toBe(CSP);
      expect(index.body).toContain('<html lang="en">');
      expect((await app.inject({ url: '/ui' })).statusCode).toBe(200);
      const script = await app.inject({ url: '/ui/js/main.js' });
      expect(script.headers['content-type']).toMatch(/^text\/javascript/);
      expect((await app.inject({ url: '/ui/app.css' })).headers['content-type']).toMatch(/^text\/css/);
      expect((await app.inject({ url: '/ui/../plugin.ts' })).statusCode).toBe(404);
      expect((await app.inject({ url: '/ui/%2e%2e/plugin.ts' })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
