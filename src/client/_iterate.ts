/**
 * `for await` over a client's messages: each iterator sees the messages that arrive once
 * iteration has started, until the client is closed for good. Internal.
 *
 * @module
 */

/**
 * Yields the `data` of every `message` event of `target` until `ended()` holds after a
 * `close` event.
 *
 * @param target The client.
 * @param ended Whether the client is closed for good.
 */
export async function* messages<D>(
  target: EventTarget,
  ended: () => boolean,
): AsyncGenerator<D, void, undefined> {
  const queue: D[] = [];
  let done = ended();
  let wake: (() => void) | undefined;
  const onMessage = (e: Event) => {
    queue.push((e as MessageEvent).data);
    wake?.();
  };
  const onClose = () => {
    if (!ended()) return;
    done = true;
    wake?.();
  };
  target.addEventListener("message", onMessage);
  target.addEventListener("close", onClose);
  try {
    while (true) {
      while (queue.length > 0) yield queue.shift()!;
      if (done) return;
      await new Promise<void>((resolve) => wake = resolve);
      wake = undefined;
    }
  } finally {
    target.removeEventListener("message", onMessage);
    target.removeEventListener("close", onClose);
  }
}
