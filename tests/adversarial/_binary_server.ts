// Run by the other runtime in binary_test.ts: a wskit server whose message hook answers with
// what it was handed (typeof, constructor name, bytes), so that each half of the suite checks
// the adapter of the runtime it does not run on. Prints its URL, runs until killed.

import { serve } from "@wskit/wskit";

const server = await serve({
  message(peer, message) {
    peer.send(JSON.stringify({
      type: typeof message,
      constructor: Object.getPrototypeOf(message)?.constructor?.name ?? null,
      bytes: typeof message === "string" ? null : [...message],
    }));
  },
}, { port: 0 });
console.log(server.url);
