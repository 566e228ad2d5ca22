// Regular expressions from a repository run in a linear-time engine: a catastrophic pattern
// returns at once on any input, and what the engine cannot run is refused with a clear message.
import { describe, expect, it } from 'vitest';
import { ContractError, parseDispatcherPackage } from '../../src/domain/contract.ts';
import { compilePattern, PatternError } from '../../src/domain/patterns.ts';
import { cacheTtlOf, deniedSamplePaths } from '../../src/steps/testing/dispatcher-rules.ts';
import { isCacheable } from '../../src/topology/local/varnish.ts';

// With a backtracking engine (RegExp) each extra 'a' doubles the work: 2^100000 steps.
const CATASTROPHIC = '(a+)+$';
const EVIL_PATH = `/${'a'.repeat(100_000)}!`;

describe('repository patterns', () => {
  it('a catastrophic pattern is accepted and evaluates a hostile path at once (linear time)', () => {
    const pkg = parseDispatcherPackage({ cache: [{ match: CATASTROPHIC, ttlSeconds: 60 }], deny: [`^/x${CATASTROPHIC}`] });
    expect(cacheTtlOf(pkg, EVIL_PATH)).toBe(0);
    expect(isCacheable(pkg, EVIL_PATH)).toBe(false);
    expect(cacheTtlOf(pkg, '/aaaa')).toBe(60);
    expect(compilePattern(`^/x${CATASTROPHIC}`).test(`/x${'a'.repeat(100_000)}`)).toBe(true);
    expect(deniedSamplePaths(pkg)).toEqual([]);
  });

  it.each([
    ['(a)\\1', /back-references|invalid escape/],
    ['(?<=/)admin', /look-around|invalid/],
    ['(?=x)', /look-around|invalid/],
    ['[unclosed', /missing closing ]/],
  ])('refuses %s with a message that says why', (pattern, reason) => {
    expect(() => compilePattern(pattern)).toThrow(PatternError);
    expect(() => compilePattern(pattern)).toThrow(reason);
    expect(() => parseDispatcherPackage({ deny: [pattern] })).toThrow(ContractError);
    expect(() => parseDispatcherPackage({ cache: [{ match: pattern, ttlSeconds: 1 }] }))
      .toThrow(/dispatcher\.yaml: cache\.0\.match: regular expression .* is not supported: .*RE2 syntax/);
  });

  it('keeps ordinary rules working as before', () => {
    const pkg = parseDispatcherPackage({ cache: [{ match: '^/assets/.*\\.(css|js)$', ttlSeconds: 300 }], deny: ['^/admin(/|$)', '^/\\.'] });
    expect(cacheTtlOf(pkg, '/assets/site.css')).toBe(300);
    expect(cacheTtlOf(pkg, '/assets/site.png')).toBe(0);
    expect(deniedSamplePaths(pkg)).toEqual(['/admin', '/.slipway-probe']);
  });
});
