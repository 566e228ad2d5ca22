// A small seccomp filter for repository code, in classic BPF as bubblewrap's --seccomp takes it.
// The namespaces and capability drop already refuse mounts and nested user namespaces; this
// closes kernel interfaces that builds and tests do not need and that have been the way out of
// sandboxes before (io_uring, bpf, perf events, userfaultfd, keyrings, kernel modules, kexec,
// the new mount API, open_by_handle_at). Refused calls fail with ENOSYS, so programs that probe
// them (libuv's io_uring) fall back as on an older kernel. x86-64 only: any other architecture
// (i386 via int 0x80, x32) is refused outright, as its numbers would slip past the list.

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const ENOSYS = 38;

/** x86-64 syscall numbers refused inside the sandbox. */
export const BLOCKED_SYSCALLS: Record<string, number> = {
  acct: 163, swapon: 167, swapoff: 168, reboot: 169, init_module: 175, delete_module: 176,
  kexec_load: 246, add_key: 248, request_key: 249, keyctl: 250, perf_event_open: 298,
  open_by_handle_at: 304, finit_module: 313, kexec_file_load: 320, bpf: 321, userfaultfd: 323,
  io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, open_tree: 428, move_mount: 429,
  fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433,
};

// BPF opcodes (linux/filter.h, linux/seccomp.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;

interface Instruction { code: number; jt: number; jf: number; k: number }

/** The filter program: 8 bytes per instruction, host byte order (little endian on x86-64). */
export function seccompFilter(): Buffer {
  const blocked = Object.values(BLOCKED_SYSCALLS);
  const program: Instruction[] = [];
  const op = (code: number, k: number, jt = 0, jf = 0): void => { program.push({ code, jt, jf, k }); };
  // Layout: [0] load arch, [1] arch ok?, [2] refuse, [3] load nr, [4] x32?, [5..] one JEQ per
  // blocked call, then allow, then refuse. Jumps count from the next instruction.
  const denyAt = 5 + blocked.length + 1;
  op(LD_W_ABS, 4);
  op(JEQ_K, AUDIT_ARCH_X86_64, 1, 0);
  op(RET_K, RET_ERRNO | ENOSYS);
  op(LD_W_ABS, 0);
  op(JGE_K, X32_SYSCALL_BIT, denyAt - 5, 0);
  blocked.forEach((nr, i) => op(JEQ_K, nr, denyAt - (5 + i) - 1, 0));
  op(RET_K, RET_ALLOW);
  op(RET_K, RET_ERRNO | ENOSYS);
  const bytes = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    bytes.writeUInt16LE(ins.code, i * 8);
    bytes.writeUInt8(ins.jt, i * 8 + 2);
    bytes.writeUInt8(ins.jf, i * 8 + 3);
    bytes.writeUInt32LE(ins.k, i * 8 + 4);
  });
  return bytes;
}
