/** Records what a `ReconnectingWebSocket` dispatches, for tests that wait on its events. */

import { assertEquals } from "@std/assert";
import {
  type IncomingData,
  ReconnectingWebSocket,
  type ReconnectingWebSocketOptions,
} from "@wskit/wskit/client";
import { type RunningExample, startExample } from "./process.ts";
import { waitFor } from "./wait.ts";

/** One dispatched event, flattened. */
export interface Seen {
  type: string;
  /** `Date.now()` at dispatch. */
  at: number;
  /** `readyState` at dispatch. */
  state: number;
  code?: number;
  reason?: string;
  wasClean?: boolean;
  attempt?: number;
  delay?: number;
  message?: string;
  messages?: readonly unknown[];
  data?: IncomingData;
}

const TYPES = [
  "connecting",
  "open",
  "message",
  "close",
  "error",
  "reconnect",
  "giveup",
  "drop",
] as const;

/** Every event of one client, in order, with helpers to wait for them. */
export class Recorder {
  readonly events: Seen[] = [];

  constructor(readonly client: ReconnectingWebSocket) {
    for (const type of TYPES) {
      client.addEventListener(type, (e: Event) => {
        const x = e as Event & Partial<Seen> & { data?: IncomingData };
        this.events.push({
          type,
          at: Date.now(),
          state: client.readyState,
          ...(x.code !== undefined && { code: x.code, reason: x.reason, wasClean: x.wasClean }),
          ...(typeof x.reason === "string" && x.code === undefined && { reason: x.reason }),
          ...(x.attempt !== undefined && { attempt: x.attempt }),
          ...(x.delay !== undefined && { delay: x.delay }),
          ...(type === "error" && { message: (e as ErrorEvent).message }),
          ...(type === "drop" && { messages: x.messages }),
          ...(type === "message" && { data: x.data }),
        });
      });
    }
  }

  /** The events of one type. */
  of(type: string): Seen[] {
    return this.events.filter((e) => e.type === type);
  }

  /** The data of every message so far. */
  get messages(): IncomingData[] {
    return this.of("message").map((e) => e.data!);
  }

  /** The event types so far, as one string (`"connecting open close reconnect"`). */
  get types(): string {
    return this.events.map((e) => e.type).join(" ");
  }

  /** Waits until `count` events of `type` have been seen; returns the last of them. */
  async next(type: string, count: number, timeout = 5_000): Promise<Seen> {
    await waitFor(() => this.of(type).length >= count, `${type} #${count}`, timeout);
    return this.of(type)[count - 1]!;
  }

  /** Waits until one more event of `type` than now has been seen; returns it. */
  another(type: string, timeout?: number): Promise<Seen> {
    return this.next(type, this.of(type).length + 1, timeout);
  }

  /** Waits until at least `count` messages have arrived. */
  async messagesAtLeast(count: number, timeout = 5_000): Promise<IncomingData[]> {
    await this.next("message", count, timeout);
    return this.messages;
  }
}

/**
 * A client with test-sized delays (20-100 ms) and no browser events, and its recorder.
 */
export function connect(
  url: ConstructorParameters<typeof ReconnectingWebSocket>[0],
  options: ReconnectingWebSocketOptions = {},
  protocols?: ConstructorParameters<typeof ReconnectingWebSocket>[1],
): [ReconnectingWebSocket, Recorder] {
  const client = new ReconnectingWebSocket(url, protocols, {
    minDelay: 20,
    maxDelay: 100,
    environment: null,
    ...options,
  });
  return [client, new Recorder(client)];
}

/** Closes the client for good and waits for its last close event. */
export async function shut(client: ReconnectingWebSocket, rec: Recorder): Promise<void> {
  if (client.readyState === client.CLOSED) return;
  const closes = rec.of("close").length;
  client.close();
  await rec.next("close", closes + 1);
  assertEquals(client.readyState, client.CLOSED);
}

/**
 * Starts an example again on the port it had: a restart after a crash. Retries a few times
 * in case the port is not free again yet.
 */
export async function restartExample(
  runtime: "deno" | "bun",
  name: string,
  port: number,
): Promise<RunningExample> {
  for (let tries = 1;; tries++) {
    try {
      return await startExample(runtime, name, ["--port", String(port)]);
    } catch (error) {
      if (tries === 5) throw error;
    }
  }
}
