// Content-addressed blob store: every artifact is kept once, under its sha256 digest.
// The interface is what steps see; the filesystem implementation lives in fs-store.ts.
import type { Readable } from 'node:stream';

export interface StoredBlob {
  digest: string; // "sha256:<64 hex>"
  size: number;
}

export interface ArtifactStore {
  /** Copies a file into the store (atomically: temp file + rename) and returns its digest. */
  putFile(path: string): Promise<StoredBlob>;
  putBytes(bytes: Buffer | string): Promise<StoredBlob>;
  /** Stores what `source` yields, hashed on its way in (no copy of it anywhere else first). */
  putStream(source: AsyncIterable<Uint8Array>): Promise<StoredBlob>;
  /**
   * Stores a file whose digest the caller already knows and that nobody changes (a machine-wide
   * cache): a hard link when both sit on one file system, else a copy checked against `blob`.
   */
  putKnownFile(path: string, blob: StoredBlob): Promise<StoredBlob>;
  has(digest: string): Promise<boolean>;
  /** The path of the stored blob (read-only by convention). */
  pathOf(digest: string): string;
  open(digest: string): Readable;
  read(digest: string): Promise<Buffer>;
}
