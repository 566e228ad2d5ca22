// The request handler: routing for pages, the contact form, assets, health and (in author
// mode) the content-editing endpoints. No sockets here, so tests can drive it in-process.
import { renderContactForm, parseForm, validateContact } from './contact.js';
import { CACHE_CONTROL, applyCommonHeaders } from './headers.js';
import { checkHealth } from './health.js';
import { validatePageEdit } from './pages.js';
import { escapeHtml, renderPage } from './render.js';

const MAX_BODY_BYTES = 64 * 1024;

class HttpError extends Error {
  constructor(statusCode, message) {
    super(message);
    this.statusCode = statusCode;
  }
}

/**
 * @param {{ version: string, mode: 'author' | 'publish', pages: ReturnType<typeof import('./pages.js').createPageStore>,
 *   assets: Map<string, { body: Buffer, type: string, etag: string }>,
 *   healthChecks?: Array<() => { name: string, ok: boolean, detail?: string }> }} options
 */
export function createApp(options) {
  const { version, mode, pages, assets } = options;
  const healthChecks = options.healthChecks ?? [];
  const site = { version };

  function send(res, statusCode, type, body, cacheControl) {
    const buffer = typeof body === 'string' ? Buffer.from(body) : body;
    res.statusCode = statusCode;
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Length', buffer.length);
    res.setHeader('Cache-Control', cacheControl);
    res.end(buffer);
  }

  const sendJson = (res, statusCode, value) =>
    send(res, statusCode, 'application/json; charset=utf-8', JSON.stringify(value), CACHE_CONTROL.private);

  const sendHtml = (res, statusCode, page, cacheControl = CACHE_CONTROL.page) =>
    send(res, statusCode, 'text/html; charset=utf-8', renderPage(page, site), cacheControl);

  function notFound(res) {
    sendHtml(res, 404, {
      path: '', title: 'Page not found', heading: 'Page not found',
      description: 'The page you asked for does not exist.',
      bodyHtml: '<p>Sorry, there is nothing here. <a href="/">Go to the home page</a>.</p>',
    }, CACHE_CONTROL.private);
  }

  function methodNotAllowed(res, allowed) {
    res.setHeader('Allow', allowed.join(', '));
    send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', CACHE_CONTROL.private);
  }

  async function handleContact(req, res) {
    const fields = parseForm(await readBody(req));
    const errors = validateContact(fields);
    const contact = pages.get('contact');
    if (Object.keys(errors).length > 0) {
      return sendHtml(res, 400, {
        ...contact, title: 'Please check your message', heading: 'Please check your message',
        bodyHtml: renderContactForm(fields, errors),
      }, CACHE_CONTROL.private);
    }
    return sendHtml(res, 200, {
      ...contact, title: 'Message sent', heading: 'Thank you!',
      bodyHtml: `<p class="confirmation">Thanks, ${escapeHtml(fields.name)}. We will answer within a day.</p>`,
    }, CACHE_CONTROL.private);
  }

  async function handleAuthor(req, res, path) {
    if (path === '/author/pages' && isRead(req.method)) {
      return sendJson(res, 200, { pages: pages.list().map(({ name, path: p, title }) => ({ name, path: p, title })) });
    }
    const match = /^\/author\/pages\/([^/]+)$/.exec(path);
    const name = match?.[1];
    if (name === undefined) return sendJson(res, 404, { error: 'not found' });
    if (isRead(req.method)) {
      const page = pages.get(name);
      return page ? sendJson(res, 200, page) : sendJson(res, 404, { error: `no page "${name}"` });
    }
    if (req.method !== 'PUT') return methodNotAllowed(res, ['GET', 'HEAD', 'PUT']);
    let edit;
    try {
      edit = JSON.parse(await readBody(req));
    } catch (error) {
      if (error instanceof HttpError) throw error;
      return sendJson(res, 400, { errors: ['the body must be JSON'] });
    }
    const checked = validatePageEdit(edit);
    if (!checked.ok) return sendJson(res, 400, { errors: checked.errors });
    const page = pages.edit(name, checked.fields);
    return page ? sendJson(res, 200, page) : sendJson(res, 404, { error: `no page "${name}"` });
  }

  function handleHealth(req, res) {
    if (!isRead(req.method)) return methodNotAllowed(res, ['GET', 'HEAD']);
    const health = checkHealth(version, healthChecks);
    return sendJson(res, health.statusCode, { ...health.body, mode });
  }

  function handleAsset(req, res, asset) {
    if (!isRead(req.method)) return methodNotAllowed(res, ['GET', 'HEAD']);
    res.setHeader('ETag', asset.etag);
    if (req.headers['if-none-match'] === asset.etag) {
      res.statusCode = 304;
      res.setHeader('Cache-Control', CACHE_CONTROL.asset);
      return res.end();
    }
    return send(res, 200, asset.type, asset.body, CACHE_CONTROL.asset);
  }

  function handlePage(req, res, path) {
    const page = pages.byPath(path === '/index.html' ? '/' : path);
    if (!page) return notFound(res);
    return isRead(req.method) ? sendHtml(res, 200, page) : methodNotAllowed(res, ['GET', 'HEAD']);
  }

  async function route(req, res) {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/health') return handleHealth(req, res);
    if (path === '/author' || path.startsWith('/author/')) {
      return mode === 'author' ? handleAuthor(req, res, path) : notFound(res);
    }
    if (path === '/contact') {
      return req.method === 'POST' ? handleContact(req, res) : methodNotAllowed(res, ['POST']);
    }
    const asset = assets.get(path);
    return asset ? handleAsset(req, res, asset) : handlePage(req, res, path);
  }

  /** @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res */
  return async function handle(req, res) {
    applyCommonHeaders(res, version);
    try {
      await route(req, res);
    } catch (error) {
      if (res.headersSent) return res.destroy();
      const statusCode = error instanceof HttpError ? error.statusCode : 500;
      if (statusCode === 500) console.error(error);
      send(res, statusCode, 'text/plain; charset=utf-8', `${statusCode === 500 ? 'Internal Server Error' : error.message}\n`,
        CACHE_CONTROL.private);
    }
  };
}

function isRead(method) {
  return method === 'GET' || method === 'HEAD';
}

/** Reads a request body up to MAX_BODY_BYTES; larger bodies are answered 413. */
export async function readBody(req, limit = MAX_BODY_BYTES) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, 'Payload Too Large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
