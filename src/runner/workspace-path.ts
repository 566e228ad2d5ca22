// Paths that a repository names (slipway.yaml's app.output, dispatcher.path, tests.*.path,
// report and source files) are read on the host after repository code ran in the workspace, so
// the workspace is hostile: any of them may be a symlink to the data directory or to /etc. The
// one way to turn such a path into a host path is `resolveInWorkspace`: the real path (every
// symlink resolved) must stay inside the workspace's real path, or the path is refused.
import { constants, realpathSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';

export class WorkspacePathError extends Error {
  constructor(readonly path: string, why: string) {
    super(`"${path}" ${why}`);
    this.name = 'WorkspacePathError';
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The real host path of `repoPath` inside `workspace`, or undefined when nothing is there.
 * Throws WorkspacePathError when the path is absolute, climbs out with "..", or resolves
 * (through symlinks) to somewhere outside the workspace.
 */
export async function resolveInWorkspace(workspace: string, repoPath: string): Promise<string | undefined> {
  if (isAbsolute(repoPath) || repoPath.split(/[\\/]/).includes('..')) {
    throw new WorkspacePathError(repoPath, 'is not a path inside the repository');
  }
  // Synchronous: a few lstat calls on a local tree, microseconds; a build's end waits for them
  // (bench: build-overhead), where each hop through libuv's threadpool costs more.
  const root = realpathSync.native(workspace);
  let real: string;
  try {
    real = realpathSync.native(join(root, repoPath));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw new WorkspacePathError(repoPath, 'is a symlink loop');
    throw err;
  }
  if (!inside(root, real)) throw new WorkspacePathError(repoPath, 'leads outside the workspace (through a symlink)');
  return real;
}

/**
 * Reads a file named by the repository: resolved inside the workspace, opened without following
 * a last-moment symlink, and only when it is a regular file. Undefined when it does not exist.
 */
export async function readWorkspaceFile(workspace: string, repoPath: string): Promise<string | undefined> {
  const path = await resolveInWorkspace(workspace, repoPath);
  if (path === undefined) return undefined;
  // O_NONBLOCK: a fifo planted under the name must not hang the step (it is refused below).
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw new WorkspacePathError(repoPath, 'is not a regular file');
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
