// UPLOAD_URL for UI tests (Cloud Manager §10.4): a POST carries one file, as multipart/form-data
// or as the raw body; the answer is 200 text/plain with an opaque handle. Files land in `dir`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

export interface UploadedFile {
  handle: string;
  name: string;
  path: string;
  size: number;
}

export interface UploadServer {
  url: string;
  uploads: UploadedFile[];
  close(): Promise<void>;
}

const MAX_UPLOAD_BYTES = 32 * 1024 * 1024;

function safeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  return base.replace(/[^\w.-]/g, '_').slice(0, 100) || 'upload.bin';
}

/** Extracts the first file part of a multipart body (tests send exactly one). */
export function firstMultipartFile(body: Buffer, contentType: string): { name: string; data: Buffer } | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) return undefined;
  const delimiter = Buffer.from(`--${marker}`);
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const headerStart = start + delimiter.length + 2; // CRLF after the delimiter
    const headerEnd = body.indexOf('\r\n\r\n', headerStart);
    if (headerEnd === -1) return undefined;
    const next = body.indexOf(delimiter, headerEnd);
    if (next === -1) return undefined;
    const headers = body.subarray(headerStart, headerEnd).toString('utf8');
    const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
    if (filename !== undefined) return { name: filename, data: body.subarray(headerEnd + 4, next - 2) };
    start = next;
  }
  return undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_UPLOAD_BYTES) { reject(new Error('upload too large')); req.destroy(); return; }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startUploadServer(dir: string): Promise<UploadServer> {
  const uploads: UploadedFile[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') { res.writeHead(405, { allow: 'POST' }).end(); return; }
    const body = await readBody(req);
    const contentType = req.headers['content-type'] ?? '';
    const file = contentType.startsWith('multipart/form-data')
      ? firstMultipartFile(body, contentType)
      : { name: String(req.headers['x-file-name'] ?? 'upload.bin'), data: body };
    if (!file) { res.writeHead(400, { 'content-type': 'text/plain' }).end('no file part'); return; }
    const id = randomUUID();
    const name = safeName(file.name);
    const path = join(dir, `${id}-${name}`);
    await writeFile(path, file.data);
    uploads.push({ handle: id, name, path, size: file.data.length });
    res.writeHead(200, { 'content-type': 'text/plain' }).end(id);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(413, { 'content-type': 'text/plain' });
      res.end(err.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/upload`,
    uploads,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
