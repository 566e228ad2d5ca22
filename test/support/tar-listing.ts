// The entries of a tar file (name → mode, owner, type), read with tar-stream: for assertions on
// what a layer holds.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract } from 'tar-stream';

export interface TarEntry { mode: number; uid: number; gid: number; type: string; size: number; mtime: number; linkname?: string }

export async function tarListing(path: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const extractor = tarExtract();
  const reading = pipeline(createReadStream(path), extractor);
  for await (const entry of extractor) {
    const h = entry.header;
    entries.set(h.name, {
      mode: h.mode ?? 0, uid: h.uid ?? 0, gid: h.gid ?? 0, type: h.type ?? 'file', size: h.size ?? 0,
      mtime: h.mtime?.getTime() ?? 0, ...(h.linkname ? { linkname: h.linkname } : {}),
    });
    entry.resume();
  }
  await reading;
  return entries;
}
