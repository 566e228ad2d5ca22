// Streaming secret masking for process output. Each secret is masked as written and in the
// encodings a build most easily prints it in (base64, base64url, URL encoding, hex), so
// `echo $TOKEN | base64` does not get it out either. Output arrives in arbitrary chunks, so a secret
// can be split across two of them: the masker holds back only the bytes at the end of a chunk
// that could still be the beginning of a secret (at most maxSecretLength-1 bytes), and emits
// them once the next chunk (or the end) decides. Works on bytes, so multi-byte UTF-8 secrets
// and binary output are handled alike.

export const MASK = '****';

/** Shorter encoded forms are not masked: they would also hit ordinary text. */
const MIN_FORM_LENGTH = 8;

/** The base64 characters that depend on these bytes alone, whatever comes after them. */
const stableBase64 = (bytes: Buffer): string => bytes.subarray(0, bytes.length - (bytes.length % 3)).toString('base64');

/**
 * A secret and its encodings. Base64 comes whole (as `base64` prints the secret alone) and as
 * the characters that stay the same when the secret is encoded at any byte offset inside a
 * longer text (`echo "KEY=$TOKEN" | base64`, a trailing newline).
 */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const base64 = [bytes.toString('base64').replace(/=+$/, ''), ...[0, 1, 2].map((k) => stableBase64(bytes.subarray(k)))];
  const url = encodeURIComponent(secret);
  const forms = [
    secret,
    ...base64, ...base64.map((b) => b.replace(/\+/g, '-').replace(/\//g, '_')),
    url, url.replace(/%20/g, '+'),
    bytes.toString('hex'), bytes.toString('hex').toUpperCase(),
  ];
  return [...new Set(forms.filter((f, i) => i === 0 || f.length >= MIN_FORM_LENGTH))];
}

/** Every form of every secret, longest first (so a secret that contains another is masked whole). */
function maskedForms(secrets: readonly string[]): string[] {
  return [...new Set(secrets.filter((s) => s.length > 0).flatMap(secretForms))].sort((a, b) => b.length - a.length);
}

export class SecretMasker {
  private readonly secrets: Buffer[];
  private readonly maxLength: number;
  private pending: Buffer = Buffer.alloc(0);

  /**
   * Every form in one alternation over the bytes read as latin1 (one character per byte, so
   * indexes are byte offsets): one scan per chunk instead of one per form. The forms are our
   * own literals, escaped, longest first (the leftmost match, and the longest one there).
   */
  private readonly pattern: RegExp;

  constructor(secrets: readonly string[], private readonly emit: (chunk: Buffer) => void) {
    this.secrets = maskedForms(secrets).map((s) => Buffer.from(s, 'utf8'));
    this.maxLength = this.secrets.reduce((max, s) => Math.max(max, s.length), 0);
    const alternatives = this.secrets.map((s) => s.toString('latin1').replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'));
    this.pattern = new RegExp(alternatives.join('|') || '(?!)', 'g');
  }

  write(chunk: Buffer): void {
    if (this.secrets.length === 0) {
      if (chunk.length > 0) this.emit(chunk);
      return;
    }
    const data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const parts: Buffer[] = [];
    let from = 0;
    this.pattern.lastIndex = 0;
    for (const match of data.toString('latin1').matchAll(this.pattern)) {
      if (match.index > from) parts.push(data.subarray(from, match.index));
      parts.push(Buffer.from(MASK));
      from = match.index + match[0].length;
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
  for (const form of maskedForms(secrets)) out = out.split(form).join(MASK);
  return out;
}
