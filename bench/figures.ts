// What a benchmark hands back besides its printed lines: its headline figures as numbers, so
// `npm run bench -- --json` can end with one machine-readable line (keys of benches not run,
// and figures a bench could not measure, are left out).
export type Figures = Record<string, number | undefined>;

export interface Bench {
  run(): Promise<Figures | void>;
}

/** `build-overhead` → `buildOverhead`: the bench's key in the JSON line. */
export const jsonKey = (bench: string): string => bench.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** Drops what is not a finite number (a figure not measured this run). */
export function finite(figures: Figures): Record<string, number> {
  return Object.fromEntries(Object.entries(figures).filter((e): e is [string, number] => Number.isFinite(e[1])));
}

export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** Rounds a figure for the JSON line (two decimals are plenty at these magnitudes). */
export const round = (x: number): number => Math.round(x * 100) / 100;
