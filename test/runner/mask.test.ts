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

  it('maskText masks whole strings', () => {
    expect(maskText('k=abc, j=abcdef', ['abc', 'abcdef'])).toBe(`k=${MASK}, j=${MASK}`);
  });
});
