// One error type for every report parser: it names the file, so a malformed report in a build
// reads as "coverage/lcov.info: line 12: ..." in the step log instead of a stack trace.
import { readFile } from 'node:fs/promises';

export class ReportParseError extends Error {
  constructor(readonly file: string, readonly detail: string, options?: ErrorOptions) {
    super(`${file}: ${detail}`, options);
    this.name = 'ReportParseError';
  }
}

/** Wraps anything thrown while reading or parsing `file` into a ReportParseError. */
export function asReportError(file: string, error: unknown): ReportParseError {
  if (error instanceof ReportParseError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new ReportParseError(file, detail);
}

/**
 * Reads report files one by one, parses each and folds the results together; a file that
 * cannot be read or parsed throws a ReportParseError naming it.
 */
export async function foldReportFiles<T, R>(
  paths: readonly string[], parse: (content: string, path: string) => T, add: (total: R, one: T) => R, initial: R,
): Promise<R> {
  let total = initial;
  for (const path of paths) {
    let content: string;
    try {
      content = await readFile(path, 'utf8');
    } catch (error) {
      throw asReportError(path, error);
    }
    total = add(total, parse(content, path));
  }
  return total;
}
