// A deliberately insecure site for the securityTest tests (run as a real process): no
// X-Frame-Options/CSP/Referrer-Policy, an /admin page open to everyone, a directory listing,
// and (with ACCEPT_DEFAULT_LOGIN=1) an /author area that accepts admin:admin.
import { createServer } from 'node:http';

const acceptDefault = process.env.ACCEPT_DEFAULT_LOGIN === '1';
const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><title>Insecure</title><h1>Hi</h1></html>');
  if (path === '/admin') return res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Admin console</h1>');
  if (path === '/assets/') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><title>Index of /assets/</title><a href="site.css">site.css</a></html>');
  if (path.startsWith('/author') && acceptDefault) {
    const ok = req.headers.authorization === `Basic ${Buffer.from('admin:admin').toString('base64')}`;
    return res.writeHead(ok ? 200 : 401, { 'www-authenticate': 'Basic realm="author"' }).end(ok ? 'welcome' : 'login');
  }
  return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`insecure-site listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
