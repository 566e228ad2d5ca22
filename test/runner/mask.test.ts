import { describe, expect, it } from 'vitest';
import { MASK, SecretMasker, maskText } from '../../src/runner/mask.ts';

function run(secrets: string[], chunks: (string | Buffer)[]): { out: string; emits: string[] } {
  const emits: string[] = [];
  const masker = new SecretMasker(secrets, (c) => emits.push(c.toString('utf8')));
  for (const chunk of chunks) masker.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  masker.end();
  return { out: emits.join(''), emits };
}

describe('SecretMasker', () => {
  it('masks a secret inside one chunk', () => {
    expect(run(['hunter2'], ['password=hunter2 ok\n']).out).toBe(`password=${MASK} ok\n`);
  });

  it('masks a secret split across two chunks', () => {
    expect(run(['hunter2'], ['password=hun', 'ter2 ok\n']).out).toBe(`password=${MASK} ok\n`);
  });

  it('masks a secret split across many one-byte chunks', () => {
    const text = 'a s3cr3t-value b s3cr3t-value c';
    const { out } = run(['s3cr3t-value'], text.split(''));
    expect(out).toBe(`a ${MASK} b ${MASK} c`);
  });

  it('masks every split position of every secret', () => {
    const text = 'xx TOKEN-abc yy pw zz TOKEN-abc';
    for (let cut = 0; cut <= text.length; cut++) {
      const { out } = run(['TOKEN-abc', 'pw'], [text.slice(0, cut), text.slice(cut)]);
      expect(out, `cut at ${cut}`).toBe(`xx ${MASK} yy ${MASK} zz ${MASK}`);
    }
  });

  it('masks the longer secret when one contains another', () => {
    expect(run(['abc', 'abcdef'], ['-abcdef-abc-']).out).toBe(`-${MASK}-${MASK}-`);
  });

  it('masks multi-byte UTF-8 secrets split inside a character', () => {
    const secret = 'pässwörd';
    const bytes = Buffer.from(`x ${secret} y`);
    const { out } = run([secret], [bytes.subarray(0, 4), bytes.subarray(4)]);
    expect(out).toBe(`x ${MASK} y`);
  });

  it('holds back only a possible secret prefix, so ordinary output is not delayed', () => {
    const { emits } = run(['hunter2'], ['hello world\n', 'more hun']);
    expect(emits[0]).toBe('hello world\n');
    expect(emits[1]).toBe('more ');
    expect(emits.join('')).toBe('hello world\nmore hun');
  });

  it('passes output through unchanged without secrets (empty ones ignored)', () => {
    expect(run(['', ''], ['a', 'b']).out).toBe('ab');
  });

  it('masks secrets made of regular-expression characters literally', () => {
    const secret = 'a.b*c(d)|e\\f[g]';
    expect(run([secret], [`x ${secret} y aXbc`]).out).toBe(`x ${MASK} y aXbc`);
    expect(run(['.*.*.*'], ['anything at all']).out).toBe('anything at all');
  });

  it('maskText masks whole strings', () => {
    expect(maskText('k=abc, j=abcdef', ['abc', 'abcdef'])).toBe(`k=${MASK}, j=${MASK}`);
  });
});

describe('SecretMasker: encodings of a secret', () => {
  const secret = 'p@ss w/rd+Zk9';
  const bytes = Buffer.from(secret);
  const encodings: [string, string][] = [
    ['base64', bytes.toString('base64')],
    ['base64url', bytes.toString('base64url')],
    ['URL-encoded', encodeURIComponent(secret)],
    ['form-encoded', encodeURIComponent(secret).replace(/%20/g, '+')],
    ['hex', bytes.toString('hex')],
    ['HEX', bytes.toString('hex').toUpperCase()],
  ];

  it.each(encodings)('masks the %s form, split at every position', (_name, encoded) => {
    expect(encoded).not.toBe(secret);
    const text = `before ${encoded} after`;
    for (let cut = 0; cut <= text.length; cut++) {
      const { out } = run([secret], [text.slice(0, cut), text.slice(cut)]);
      expect(out, `cut at ${cut}`).not.toContain(encoded.replace(/=+$/, ''));
      expect(out, `cut at ${cut}`).toContain(MASK);
      expect(out.startsWith('before ') && out.endsWith(' after'), `cut at ${cut}: ${out}`).toBe(true);
    }
  });

  it('masks base64 of the secret inside a longer text (any byte offset, a trailing newline)', () => {
    for (const prefix of ['', 'K=', 'KEY=']) {
      const encoded = Buffer.from(`${prefix}${secret}\n`).toString('base64');
      const { out } = run([secret], [`${encoded}\n`]);
      // What is left: the groups at the two edges, which mix the secret's first or last byte
      // with the prefix or the newline, and the prefix's own group; 13 bytes of secret need 16+.
      const leftover = out.trimEnd().replace(/\*\*\*\*/g, '');
      expect(out, prefix).toContain(MASK);
      expect(leftover.length, `${prefix}: ${out}`).toBeLessThanOrEqual(12);
    }
  });

  it('maskText masks the encodings too', () => {
    expect(maskText(`a ${bytes.toString('hex')} b ${bytes.toString('base64url')}`, [secret])).toBe(`a ${MASK} b ${MASK}`);
  });
});
