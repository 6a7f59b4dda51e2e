/**
 * The options of partysocket and reconnecting-websocket that wskit names otherwise or does
 * not have: passed to `ReconnectingWebSocket`, they would be ignored without a word (in
 * JavaScript, or through a spread that TypeScript does not check), so the client refuses
 * them and names what to use instead. Internal.
 *
 * @module
 */

/** Their option, and wskit's name for it or what to do instead. */
const THEIRS: Readonly<Record<string, string>> = {
  minReconnectionDelay: "wskit's option is minDelay",
  maxReconnectionDelay: "wskit's option is maxDelay",
  reconnectionDelayGrowFactor: "wskit's option is factor",
  connectionTimeout: "wskit's option is connectTimeout",
  maxEnqueuedMessages: "wskit's options are maxQueued and maxQueuedBytes",
  shouldReconnectOnClose: "wskit's option is shouldReconnect",
  startClosed: "wskit has none: create the client when it should connect, " +
    "or close() it and call reconnect() later",
  debug: "wskit has none: listen to the client's events",
  debugLogger: "wskit has none: listen to the client's events",
  WebSocket: "wskit has none: the client uses the runtime's own WebSocket",
};

/**
 * Refuses the options of partysocket and reconnecting-websocket (own properties that are set).
 *
 * @throws {TypeError} "Cannot configure minReconnectionDelay: that is partysocket's option;
 * wskit's option is minDelay".
 */
export function refuseTheirOptions(options: object): void {
  for (const name of Object.keys(THEIRS)) {
    if (!Object.hasOwn(options, name)) continue;
    if ((options as Record<string, unknown>)[name] === undefined) continue;
    throw new TypeError(
      `Cannot configure ${name}: that is partysocket's (and reconnecting-websocket's) option; ${
        THEIRS[name]
      }`,
    );
  }
}
