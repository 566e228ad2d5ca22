// Streaming secret masking for process output. Output arrives in arbitrary chunks, so a secret
// can be split across two of them: the masker holds back only the bytes at the end of a chunk
// that could still be the beginning of a secret (at most maxSecretLength-1 bytes), and emits
// them once the next chunk (or the end) decides. Works on bytes, so multi-byte UTF-8 secrets
// and binary output are handled alike.

export const MASK = '****';

export class SecretMasker {
  private readonly secrets: Buffer[];
  private readonly maxLength: number;
  private pending: Buffer = Buffer.alloc(0);

  constructor(secrets: readonly string[], private readonly emit: (chunk: Buffer) => void) {
    // Longest first, so a secret that contains another is masked as a whole.
    this.secrets = [...new Set(secrets.filter((s) => s.length > 0))]
      .map((s) => Buffer.from(s, 'utf8'))
      .sort((a, b) => b.length - a.length);
    this.maxLength = this.secrets.reduce((max, s) => Math.max(max, s.length), 0);
  }

  write(chunk: Buffer): void {
    if (this.secrets.length === 0) {
      if (chunk.length > 0) this.emit(chunk);
      return;
    }
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const parts: Buffer[] = [];
    let from = 0;
    for (;;) {
      const match = this.nextMatch(data, from);
      if (!match) break;
      if (match.at > from) parts.push(data.subarray(from, match.at));
      parts.push(Buffer.from(MASK));
      from = match.at + match.length;
    }
    const holdFrom = this.partialSecretStart(data, from);
    if (holdFrom > from) parts.push(data.subarray(from, holdFrom));
    // Copy: the caller may reuse its chunk buffer.
    this.pending = Buffer.from(data.subarray(holdFrom));
    if (parts.length === 1 && parts[0]) this.emit(parts[0]);
    else if (parts.length > 1) this.emit(Buffer.concat(parts));
  }

  /** Emits the held-back bytes: no secret can complete any more. */
  end(): void {
    if (this.pending.length > 0) this.emit(this.pending);
    this.pending = Buffer.alloc(0);
  }

  /** The earliest complete secret at or after `from` (the longest one on a tie). */
  private nextMatch(data: Buffer, from: number): { at: number; length: number } | undefined {
    let best: { at: number; length: number } | undefined;
    for (const secret of this.secrets) {
      const at = data.indexOf(secret, from);
      if (at >= 0 && (!best || at < best.at)) best = { at, length: secret.length };
    }
    return best;
  }

  /** Where the unfinished beginning of a secret starts at the end of `data` (data.length if none). */
  private partialSecretStart(data: Buffer, from: number): number {
    const start = Math.max(from, data.length - (this.maxLength - 1));
    for (let p = start; p < data.length; p++) {
      const tail = data.subarray(p);
      if (this.secrets.some((s) => s.length > tail.length && s.subarray(0, tail.length).equals(tail))) return p;
    }
    return data.length;
  }
}

/** Masks a whole string at once (for log lines the runner writes itself). */
export function maskText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join(MASK);
  }
  return out;
}
