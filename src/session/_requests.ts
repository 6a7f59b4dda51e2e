/**
 * Waiting for the answer to a request, on either side of a session: settled by the answer,
 * or rejected with a `TimeoutError` after the timeout (counted from the call) or with the
 * signal's reason when it aborts. Web standards only. Internal.
 *
 * @module
 */

import { RemoteError } from "./errors.ts";
import type { RequestOptions } from "./types.ts";
import { encodePayload } from "./wire.ts";

/** A request waiting for its answer, where the answer can find it. */
export interface Waiter {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** The room of a join, whose answer says where the room stands. */
  room?: string;
}

/**
 * Sends a request and waits for its answer.
 *
 * @param event The request's name, for the timeout's message.
 * @param options Its timeout and signal.
 * @param defaultTimeout The timeout when `options` gives none, in milliseconds.
 * @param send Sends the request and puts `waiter` where its answer will find it; throws
 * when it cannot be sent.
 * @param withdraw Takes the waiter back after a timeout or an abort.
 * @param room The room of a join.
 * @returns The answer.
 */
export function awaitAnswer<R>(
  event: string,
  options: RequestOptions,
  defaultTimeout: number,
  send: (waiter: Waiter) => void,
  withdraw: (waiter: Waiter) => void,
  room?: string,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const signal = options.signal;
    if (signal?.aborted) return reject(signal.reason);
    const timeout = options.timeout ?? defaultTimeout;
    // Set once the request is sent; an answer cannot come before.
    const pending: { timer?: ReturnType<typeof setTimeout> } = {};
    const done = () => {
      clearTimeout(pending.timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const cancel = (error: unknown) => {
      done();
      withdraw(waiter);
      reject(error);
    };
    const onAbort = () => cancel(signal!.reason);
    const waiter: Waiter = {
      resolve(value) {
        done();
        resolve(value as R);
      },
      reject(error) {
        done();
        reject(error);
      },
      ...(room === undefined ? {} : { room }),
    };
    try {
      send(waiter);
    } catch (error) {
      return reject(error);
    }
    pending.timer = setTimeout(() =>
      cancel(
        new DOMException(
          `Cannot get an answer to "${event}": no reply within ${timeout} ms`,
          "TimeoutError",
        ),
      ), timeout);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

const INTERNAL = `{"name":"RemoteError","message":"Internal error","code":"internal"}`;

/**
 * Answers the other side's request with what `handler` returns, or the error it throws: a
 * `RemoteError` as it is, anything else (and a result JSON cannot carry) as "Internal
 * error", also reported.
 *
 * @param handler The handler, if there is one.
 * @param event The request's name.
 * @param payload Its payload.
 * @param reply Sends the answer: its frame type (`a`, `A` with bytes, `x` for an error), the
 * JSON text of the result or error, and the value it carries.
 * @param report Reports a failure.
 */
export function answerRequest(
  handler: ((payload: unknown) => unknown) | undefined,
  event: string,
  payload: unknown,
  reply: (type: string, json: string, value: unknown) => void,
  report: (message: string, error: unknown) => void,
): void {
  const fail = (body: unknown) => reply("x", JSON.stringify(body), body);
  if (!handler) {
    const message = `Cannot answer "${event.slice(0, 40)}": there is no handler for it`;
    return fail({ name: "RemoteError", message, code: "unknown_request" });
  }
  Promise.resolve().then(() => handler(payload)).then(
    (value) => {
      let answer: [string, string];
      try {
        answer = encodePayload("a", value ?? null);
      } catch (error) {
        report(`the result of "${event}" cannot be sent`, error);
        answer = ["x", INTERNAL];
      }
      reply(answer[0], answer[1], value);
    },
    (error) => {
      if (error instanceof RemoteError) {
        try {
          return fail(error.toBody());
        } catch { /* a code JSON cannot carry: an internal error after all */ }
      }
      report(`the handler of "${event}" failed`, error);
      reply("x", INTERNAL, undefined);
    },
  );
}
