// Work done side by side whose outcome is decided only once all of it is over: unlike
// Promise.all, nothing is still running when the caller reacts to a failure (a rollback never
// races a pair still being changed; a failed start leaves no sibling starting unseen).
/** Waits for every promise, then rejects with the first failure, in the order given. */
export async function allSettledOrThrow(work: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
