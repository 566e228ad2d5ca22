// Regular expressions that come from a repository (dispatcher.yaml's cache and deny rules) run
// in a linear-time engine (RE2 semantics, via re2js): a catastrophic pattern such as `(a+)+$`
// cannot stall the API or the engine, whatever path it meets. Pure.
import { RE2JS } from 're2js';

export class PatternError extends Error {
  constructor(readonly pattern: string, reason: string, options?: ErrorOptions) {
    super(`regular expression ${JSON.stringify(pattern)} is not supported: ${reason} (patterns run in RE2 syntax: no look-around, no back-references)`, options);
    this.name = 'PatternError';
  }
}

export interface RepositoryPattern {
  readonly source: string;
  /** True when the pattern matches somewhere in `text` (like RegExp.test without flags). */
  test(text: string): boolean;
}

const compiled = new Map<string, RepositoryPattern>();

/** Compiles a repository pattern, or throws a PatternError that says why it is refused. */
export function compilePattern(source: string): RepositoryPattern {
  const known = compiled.get(source);
  if (known) return known;
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (error) {
    throw new PatternError(source, (error as Error).message.replace(/^error parsing regexp: /, ''), { cause: error });
  }
  const pattern = { source, test: (text: string) => re.matcher(text).find() };
  // Bounded: the patterns of the deployed dispatcher packages, not one per request.
  if (compiled.size >= 1000) compiled.clear();
  compiled.set(source, pattern);
  return pattern;
}

/** Why a pattern is refused, or undefined when it compiles. */
export function patternProblem(source: string): string | undefined {
  try {
    compilePattern(source);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
