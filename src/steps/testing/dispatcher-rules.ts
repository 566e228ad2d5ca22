// Reads the deployed dispatcher package (dispatcher.yaml inside the DISPATCHER_IMAGE artifact)
// and turns its rules into concrete paths to probe. Deny rules are regular expressions; a
// probe needs a literal path, so only rules with a literal prefix yield one. Pure except
// `loadDispatcherPackage`.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { StepContext } from '../handler.ts';
import { DISPATCHER_FILE, parseDispatcherPackage, type DispatcherPackage } from '../../domain/contract.ts';
import { compilePattern } from '../../domain/patterns.ts';
import { unpackImage } from '../../artifacts/oci.ts';
import { latestArtifact } from './execution-inputs.ts';
import { filesUnder } from './bundle-run.ts';

export const DISPATCHER_IMAGE_ARTIFACT = 'DISPATCHER_IMAGE';

/** "^/admin(/|$)" → "/admin"; undefined when the rule has no literal path prefix. */
export function samplePathOfRule(rule: string): string | undefined {
  const body = rule.replace(/^\^/, '');
  const literal = /^(?:[\w\-./~]|\\[./-])+/.exec(body)?.[0]?.replace(/\\(.)/g, '$1');
  if (!literal?.startsWith('/')) return undefined;
  // URLs resolve "/." and "/.." away, so a rule about dot-paths gets a name after the dot.
  const path = /\/\.{1,2}$/.test(literal) ? `${literal}slipway-probe` : literal;
  try {
    return compilePattern(rule).test(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

export function deniedSamplePaths(pkg: DispatcherPackage): string[] {
  return [...new Set(pkg.deny.map(samplePathOfRule).filter((p): p is string => p !== undefined))];
}

/** The TTL of the first cache rule matching the path (first match wins), 0 when uncached. */
export function cacheTtlOf(pkg: DispatcherPackage, path: string): number {
  for (const rule of pkg.cache) {
    try {
      if (compilePattern(rule.match).test(path)) return rule.ttlSeconds;
    } catch { /* an invalid rule never matches (parsing refuses them first) */ }
  }
  return 0;
}

/** The dispatcher package of this execution, or undefined when the build has none. */
export async function loadDispatcherPackage(ctx: StepContext): Promise<DispatcherPackage | undefined> {
  const image = await latestArtifact(ctx, DISPATCHER_IMAGE_ARTIFACT);
  if (!image) return undefined;
  const dir = join(ctx.workDir, 'dispatcher-package');
  await mkdir(dir, { recursive: true });
  await unpackImage(ctx.artifacts, image.digest, dir);
  const file = (await filesUnder(dir)).find((f) => f.endsWith(`/${DISPATCHER_FILE}`));
  if (!file) return undefined;
  return parseDispatcherPackage(parseYaml(await readFile(file, 'utf8')), DISPATCHER_FILE);
}
