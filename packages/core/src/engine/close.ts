/**
 * Close a connection gracefully but never hang: drivers wait for a reconnecting client to come
 * back before a graceful close resolves, which never happens if the server is gone for good.
 * After `graceMs` (or if the graceful close fails) `force` is called.
 *
 * @param graceful - the driver's QUIT/close
 * @param force - the driver's immediate disconnect/destroy (a promise it returns may reject —
 *   node-redis 4's `disconnect()` does on a client already closed — and is ignored)
 * @param graceMs - how long to wait for the graceful close
 */
export async function closeGracefully(graceful: () => Promise<unknown>, force: () => unknown, graceMs = 1_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
  const closed = await Promise.race([
    graceful().then(
      () => true,
      () => false,
    ),
    gaveUp,
  ]);
  clearTimeout(timer);
  if (!closed) ignoreRejection(force());
}

/** A driver call's promise whose failure nobody needs: never an unhandled rejection. */
function ignoreRejection(result: unknown): void {
  if (result instanceof Promise) result.catch(() => undefined);
}
