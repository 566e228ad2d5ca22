// slipway.yaml's image section (base and extra Debian packages), and the repository URL an
// image's source label shows.
import { describe, expect, it } from 'vitest';
import { ContractError, parseContract } from '../../src/domain/contract.ts';
import { publicRepositoryUrl } from '../../src/runner/repository-url.ts';

describe('image in slipway.yaml', () => {
  it('defaults to the node base without extra packages', () => {
    expect(parseContract({}).image).toEqual({ base: 'node', packages: [] });
  });

  it('takes static, none, and Debian package names', () => {
    expect(parseContract({ image: { base: 'static' } }).image).toEqual({ base: 'static', packages: [] });
    expect(parseContract({ image: { base: 'none', packages: ['python3-minimal', 'libstdc++6', 'g++-12'] } }).image.packages)
      .toEqual(['python3-minimal', 'libstdc++6', 'g++-12']);
  });

  it('refuses other bases, names that are no Debian package (or an apt option), and packages on static', () => {
    for (const image of [
      { base: 'alpine' },
      { packages: ['Python3'] },
      { packages: ['-o=APT::Get::AllowUnauthenticated=1'] },
      { packages: ['curl', 'x y'] },
      { packages: ['curl,wget'] },
      { packages: ['a'] },
      { base: 'static', packages: ['curl'] },
      { packages: Array.from({ length: 51 }, (_, i) => `pkg${i}`) },
      { base: 'node', from: 'x' },
    ]) {
      expect(() => parseContract({ image }), JSON.stringify(image)).toThrow(ContractError);
    }
  });
});

describe('publicRepositoryUrl', () => {
  it('drops user names, passwords, tokens in the query and scp-style users', () => {
    expect(publicRepositoryUrl('https://deploy:s3cr3t@git.example.com/org/site.git?token=abc#x')).toBe('https://git.example.com/org/site.git');
    expect(publicRepositoryUrl('ssh://git@git.example.com:2222/org/site.git')).toBe('ssh://git.example.com:2222/org/site.git');
    expect(publicRepositoryUrl('git@github.com:org/site.git')).toBe('github.com:org/site.git');
    expect(publicRepositoryUrl('file:///srv/git/site.git')).toBe('file:///srv/git/site.git');
    expect(publicRepositoryUrl('/srv/git/site.git')).toBe('/srv/git/site.git');
  });
});
