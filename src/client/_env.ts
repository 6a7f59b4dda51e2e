/**
 * Where the client meets its environment: URLs resolved the same way on every runtime, and
 * the browser's `online`, `offline` and `visibilitychange` events where they exist.
 *
 * @module
 */

/**
 * Resolves and checks a WebSocket URL the same way on every runtime: relative to the page
 * in browsers, `http:`/`https:` mapped to `ws:`/`wss:`, no fragment.
 *
 * @throws {TypeError} When it is not a URL or has another scheme.
 */
export function socketUrl(url: string | URL): string {
  if (typeof url !== "string" && !(url instanceof URL)) {
    throw new TypeError(`Cannot connect: the URL provider returned ${typeof url}, not a URL`);
  }
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch {
    throw new TypeError(`Cannot connect: "${url}" is not a valid URL`);
  }
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  else if (parsed.protocol === "https:") parsed.protocol = "wss:";
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new TypeError(`Cannot connect: "${url}" is not a ws:, wss:, http: or https: URL`);
  }
  parsed.hash = "";
  return parsed.href;
}

interface Visible {
  visibilityState?: string;
}

/**
 * Follows `online`, `offline` and `visibilitychange` where they exist (a browser page or
 * worker), or on the given target; nothing in Deno and Bun.
 *
 * @returns A function that stops following them, or undefined when there is nothing to follow.
 */
export function watchEnvironment(
  environment: EventTarget | null | undefined,
  on: { online(): void; offline(): void; visible(): void },
): (() => void) | undefined {
  if (environment === null) return undefined;
  const scope = globalThis as unknown as EventTarget & { document?: EventTarget & Visible };
  const network = environment ?? ("ononline" in globalThis ? scope : undefined);
  const page = environment ?? scope.document;
  if (!network && !page) return undefined;
  const online = () => on.online();
  const offline = () => on.offline();
  const visibility = (e: Event) => {
    if ((e.currentTarget as Visible | null)?.visibilityState !== "hidden") on.visible();
  };
  network?.addEventListener("online", online);
  network?.addEventListener("offline", offline);
  page?.addEventListener("visibilitychange", visibility);
  return () => {
    network?.removeEventListener("online", online);
    network?.removeEventListener("offline", offline);
    page?.removeEventListener("visibilitychange", visibility);
  };
}
