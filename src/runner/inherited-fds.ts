// Descriptors this process inherited from whoever started it and left open (without
// close-on-exec) pass on to every process it starts: repository code in its sandbox would get
// a shell's or a CI runner's pipes and files. Node opens its own with close-on-exec, so the
// others are closed once, at start, before anything is spawned.
import { closeSync, readdirSync, readFileSync } from 'node:fs';

const O_CLOEXEC = 0o2000000;

/** Closes every descriptor above stderr that lacks close-on-exec; returns them (Linux: /proc). */
export function closeInheritedDescriptors(): number[] {
  const closed: number[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return closed;
  }
  for (const fd of names.map(Number).filter((n) => n > 2)) {
    let flags: number;
    try {
      flags = parseInt(/^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '', 8);
    } catch {
      continue; // gone meanwhile (the directory listing's own descriptor)
    }
    if (Number.isNaN(flags) || flags & O_CLOEXEC) continue;
    try {
      closeSync(fd);
      closed.push(fd);
    } catch { /* closed meanwhile */ }
  }
  return closed;
}
