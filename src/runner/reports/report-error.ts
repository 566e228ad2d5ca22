// One error type for every report parser: it names the file, so a malformed report in a build
// reads as "coverage/lcov.info: line 12: ..." in the step log instead of a stack trace.

export class ReportParseError extends Error {
  constructor(readonly file: string, readonly detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'ReportParseError';
  }
}

/** Wraps anything thrown while reading or parsing `file` into a ReportParseError. */
export function asReportError(file: string, error: unknown): ReportParseError {
  if (error instanceof ReportParseError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new ReportParseError(file, detail);
}
