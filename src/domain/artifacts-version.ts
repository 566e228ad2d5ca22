// The execution's artifacts version, in Cloud Manager's shape: YYYY.MDD.HHMMSS.<execution id
// padded to 10>, in UTC (e.g. 2019.523.134947.0000006554).
export function computeArtifactsVersion(at: Date, executionId: string): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const date = `${at.getUTCFullYear()}.${at.getUTCMonth() + 1}${two(at.getUTCDate())}`;
  const time = `${two(at.getUTCHours())}${two(at.getUTCMinutes())}${two(at.getUTCSeconds())}`;
  return `${date}.${time}.${executionId.padStart(10, '0')}`;
}
