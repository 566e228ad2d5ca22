// JSON column helpers: parse leniently (an old row never crashes a read).
export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export const toDate = (ms: number | null | undefined): Date | undefined =>
  ms === null || ms === undefined ? undefined : new Date(Number(ms));

/** Ids are numbers in the database and strings everywhere else (as in Cloud Manager). */
export function toId(id: string | number): number {
  const n = typeof id === 'number' ? id : Number(id);
  return Number.isSafeInteger(n) && n > 0 ? n : -1;
}
