// A describe()-only view over REAL processes for unit-level tests of the stage-testing steps:
// sample-site app processes (node examples/sample-site/src/server.js, APP_MODE author/publish)
// or small test servers, started here and killed by PID in `stop()`. It is NOT a topology
// driver: there is no Varnish or HAProxy in front, so the "dispatcher" and "load balancer"
// entries point at the publish process itself. The steps only read URLs from describe(); the
// end-to-end tests on the real local topology (Varnish + HAProxy) cover the real chain.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Environment } from '../../src/domain/model.ts';
import type { NodeView, TopologyDriver, TopologyView } from '../../src/topology/driver.ts';

export const SAMPLE_SERVER = fileURLToPath(new URL('../../examples/sample-site/src/server.js', import.meta.url));

export interface RunningApp {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `node <script>` with PORT=0 and waits for its "listening on http://..." line. */
export function startNodeServer(script: string, env: Record<string, string>): Promise<RunningApp> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PORT: '0', HOST: '127.0.0.1', SHUTDOWN_GRACE_MS: '500', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${script} did not start: ${output}`)); }, 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /listening on (http:\/\/[\d.]+:\d+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({
          url,
          pid: child.pid ?? 0,
          stop: () => new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) { done(); return; }
            child.once('exit', () => done());
            child.kill('SIGKILL');
          }),
        });
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${script} exited with ${code}: ${output}`)); });
  });
}

function node(name: string, role: NodeView['role'], url: string): NodeView {
  return { name, role, url, healthy: true };
}

/** The view: author, one publish, and the publish URL standing in for dispatcher and LB (see above). */
export function staticView(authorUrl: string, publishUrl: string, frontUrl = publishUrl): TopologyView {
  return {
    environmentId: 'stage-static',
    author: node('author', 'author', authorUrl),
    publish: [node('publish-1', 'publish', publishUrl)],
    dispatchers: [node('dispatcher-1', 'dispatcher', frontUrl)],
    loadBalancer: node('lb', 'loadBalancer', frontUrl),
  };
}

const notHere = (): Promise<never> => Promise.reject(new Error('StaticTopology only describes running processes'));

export class StaticTopology implements TopologyDriver {
  constructor(public view: TopologyView) {}
  describe(_env: Environment): Promise<TopologyView> { return Promise.resolve(this.view); }
  provision = notHere;
  destroy = notHere;
  adopt = notHere;
  deploy = notHere;
  flushCaches = notHere;
}

export const STAGE_ENVIRONMENT: Environment = {
  id: '21', programId: '7', name: 'stage', description: '', type: 'stage', status: 'ready', region: 'local',
  settings: { publishCount: 1 }, createdAt: new Date(0), updatedAt: new Date(0),
};
