// What a test bundle run needs, whichever isolation runs it (bundle-run.ts chooses).
import type { ArtifactType } from '../../artifacts/artifact-types.ts';

export interface BundleDirs {
  bundle: string;
  reports: string;
  home: string;
}

/** The run's places as its command sees them (they differ between sandbox and container). */
export interface RunPlaces {
  /** HOME (and TMPDIR) of the run. */
  home: string;
  /** The shell line that runs one of Slipway's own Node scripts inside the run (one that imports only Node's modules). */
  nodeScript(script: string, input: unknown): string;
}

export interface BundleRunRequest {
  kind: string; // "functional tests" / "UI tests", used in messages
  dirs: BundleDirs;
  command: string;
  timeoutMinutes: number;
  env: Record<string, string>;
  /** What really runs, when the command needs company (UI tests: their chromedriver). */
  wrap?(places: RunPlaces): string;
  /** Artifact type of the stored JUnit files. */
  resultType: ArtifactType;
  /**
   * Host 127.0.0.1 ports the tests may reach (the environment under test: its load balancer
   * and author); nothing else of the host and no internet.
   */
  hostPorts?: number[];
}
