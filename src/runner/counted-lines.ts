// How Slipway hands a text (a command line, a command) to a shell of its own that waits for it on
// a pipe (launcher.ts, sandbox-command.ts AWAIT_COMMAND): its number of lines first, then the
// lines. The shell stops reading after the last one, not at the end of the pipe: the end of a
// pipe Node writes to comes only at a later turn of Slipway's event loop (libuv shuts a child's
// stdio socket down when it polls), so a command waited as long as the loop was busy after
// sending it (a build step packing its sources holds it for milliseconds at a time). A pipe that
// ends before the last line (Slipway ended or gave up on the run) runs nothing.

/** `text` as the waiting shell reads it (readCountedLines). */
export function countedLines(text: string): string {
  return `${text.split('\n').length}\n${text}\n`;
}

/**
 * The shell line that reads a countedLines text from `fd` into $c (each line ended by a
 * newline) and closes `fd`; when the text did not arrive whole, the shell exits with 125.
 */
export function readCountedLines(fd: number): string {
  return [
    `IFS= read -r n <&${fd} || exit 125`,
    `c=; while [ "$n" -gt 0 ] 2>/dev/null && IFS= read -r l <&${fd}; do c="$c$l\n"; n=$((n-1)); done`,
    `exec ${fd}<&-`,
    '[ "$n" = 0 ] || exit 125',
    'unset l n',
  ].join('; ');
}
