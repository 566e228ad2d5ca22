// Resources one run of repository code may use (a build, a functional or UI test bundle): the
// same for every kind, so no step is the cheap way to use the machine. cgroup v1 limits are
// skipped where the machine does not allow them (logged); the disk quota is always watched.
import type { SandboxLimits } from '../runner/sandbox.ts';

export const RUN_LIMITS: SandboxLimits = {
  memoryBytes: 4 * 1024 ** 3,
  pids: 4096,
  cpuShares: 512,
  diskBytes: 8 * 1024 ** 3,
};
