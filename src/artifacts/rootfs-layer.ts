// A root filesystem tar (as mmdebstrap writes it) rewritten into a reproducible OCI layer. Unlike
// an app layer (oci.ts, which normalises owners and modes), a root filesystem keeps its owners
// and modes — /tmp must stay 1777, a service's state directory its owner — but everything that
// varies between two builds of the same packages goes: times become 0, user and group names,
// pax records (atime, ctime, xattrs) are dropped; device nodes and fifos are left out (the
// container runtime makes /dev). Entries keep the input's order, which mmdebstrap sorts by name.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, pack as tarPack, type Pack } from 'tar-stream';
import type { Readable } from 'node:stream';

const KEPT_TYPES = new Set(['file', 'contiguous-file', 'directory', 'symlink', 'link']);

/** The entry's name without the leading "./"; '' for the root itself. */
function layerName(name: string): string {
  return name.replace(/^\.\//, '').replace(/^\/+/, '');
}

/** Copies `source` (a tar stream) to `outPath` as a reproducible layer; `exclude` drops paths. */
export async function writeRootfsLayer(source: Readable, outPath: string, exclude: (relPath: string) => boolean = () => false): Promise<void> {
  const extractor = tarExtract();
  const pack = tarPack();
  const reading = pipeline(source, extractor);
  const writing = pipeline(pack, createWriteStream(outPath));
  try {
    for await (const entry of extractor) {
      const { header } = entry;
      const name = layerName(header.name);
      const trimmed = name.replace(/\/$/, '');
      if (name === '' || !KEPT_TYPES.has(header.type ?? 'file') || exclude(trimmed)) {
        entry.resume();
        continue;
      }
      const out: Parameters<Pack['entry']>[0] = {
        name,
        type: header.type === 'contiguous-file' ? 'file' : header.type,
        mode: (header.mode ?? 0o644) & 0o7777,
        uid: header.uid ?? 0,
        gid: header.gid ?? 0,
        mtime: new Date(0),
        size: header.type === 'file' || header.type === 'contiguous-file' ? header.size ?? 0 : 0,
        // A hard link names another entry of the archive; a symlink's target is kept as written.
        ...(header.linkname ? { linkname: header.type === 'link' ? layerName(header.linkname) : header.linkname } : {}),
      };
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error | null): void => (err ? reject(err) : resolve());
        if (out.type === 'file') entry.pipe(pack.entry(out, done));
        else { entry.resume(); pack.entry(out, '', done); }
      });
    }
    pack.finalize();
  } catch (err) {
    extractor.destroy(err as Error);
    pack.destroy(err as Error);
    await Promise.allSettled([reading, writing]);
    throw err;
  }
  await reading;
  await writing;
}
