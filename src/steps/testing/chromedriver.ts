// A chromedriver for one UI test step: started on a free port, ready once /status says so,
// killed when the step ends or is aborted. Tests reach it as SELENIUM_BASE_URL.
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../runner/free-port.ts';

export const CHROMEDRIVER_PATH = '/usr/bin/chromedriver';
export const CHROMIUM_PATH = '/usr/bin/chromium';

export interface ChromedriverService {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function waitReady(url: string, child: ChildProcess, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { value?: { ready?: boolean } };
      if (body.value?.ready) return true;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => { clearTimeout(hard); resolve(); });
    child.kill('SIGTERM');
  });
}

export async function startChromedriver(options: { signal: AbortSignal; log?: (line: string) => void; startTimeoutMs?: number }): Promise<ChromedriverService> {
  let lastOutput = '';
  // The free port can be taken between asking and binding; a few attempts cover that race.
  for (let attempt = 1; attempt <= 3; attempt++) {
    options.signal.throwIfAborted();
    const port = await freePort();
    const child = spawn(CHROMEDRIVER_PATH, [`--port=${port}`, '--allowed-ips=127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const remember = (chunk: Buffer): void => { lastOutput = (lastOutput + chunk.toString()).slice(-2000); };
    child.stdout?.on('data', remember);
    child.stderr?.on('data', remember);
    child.on('error', (err) => { lastOutput += `\n${err.message}`; });
    const onAbort = (): void => { void stopChild(child); };
    options.signal.addEventListener('abort', onAbort, { once: true });
    const url = `http://127.0.0.1:${port}`;
    if (await waitReady(url, child, Date.now() + (options.startTimeoutMs ?? 20_000))) {
      options.log?.(`chromedriver ${child.pid} listening on ${url}`);
      return {
        url,
        pid: child.pid ?? 0,
        stop: async () => {
          options.signal.removeEventListener('abort', onAbort);
          await stopChild(child);
        },
      };
    }
    options.signal.removeEventListener('abort', onAbort);
    await stopChild(child);
  }
  throw new Error(`chromedriver did not start: ${lastOutput.trim().split('\n').slice(-3).join(' | ')}`);
}
