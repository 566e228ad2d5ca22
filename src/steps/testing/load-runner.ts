// Starts load-runner.mjs in a second Node process and reads its one JSON line. Killed when the
// step is aborted; a hard deadline (duration + slack) bounds it even if autocannon hangs.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadFigures } from './load-metrics.ts';

const SCRIPT = fileURLToPath(new URL('./load-runner.mjs', import.meta.url));

export interface LoadRunRequest {
  url: string;
  paths: string[];
  durationSeconds: number;
  connections: number;
  signal: AbortSignal;
}

export type LoadRunOutput = LoadFigures & { p97_5Ms: number; averageMs: number; responses: number; statusCodes: Record<string, { count: number }> };

export function runLoad(req: LoadRunRequest): Promise<LoadRunOutput> {
  return new Promise((resolve, reject) => {
    const input = JSON.stringify({ url: req.url, paths: req.paths, durationSeconds: req.durationSeconds, connections: req.connections });
    const child = spawn(process.execPath, [SCRIPT, input], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
    const kill = (): void => { child.kill('SIGKILL'); };
    const deadline = setTimeout(kill, (req.durationSeconds + 30) * 1000);
    req.signal.addEventListener('abort', kill, { once: true });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      req.signal.removeEventListener('abort', kill);
      if (req.signal.aborted) { reject(new Error('cancelled')); return; }
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as LoadRunOutput);
      } catch {
        reject(new Error(`load runner exited with ${code ?? signal} without figures: ${stderr.trim().slice(-500)}`));
      }
    });
  });
}
