/**
 * Checks on the HTTP side of an upgrade: is this an upgrade at all, is it well formed, which
 * subprotocols were offered, may the page it comes from connect, and who the client is behind
 * a trusted proxy. Every refusal is a plain-text response with a reason.
 *
 * @module
 */

/** Headers in a form this runtime's `Headers` takes (`HeadersInit` is missing from Bun's types). */
type HeadersLike = ConstructorParameters<typeof Headers>[0];

const KEY = /^[A-Za-z0-9+/]{22}==$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether the request asks for a WebSocket upgrade (`Upgrade: websocket`, any case). */
export function isUpgrade(request: Request): boolean {
  const upgrade = request.headers.get("upgrade");
  return upgrade !== null && upgrade.toLowerCase().split(",").some((v) => v.trim() === "websocket");
}

/** A plain-text response carrying a reason, the only form of refusal the core produces. */
export function refuse(status: number, reason: string, headers?: HeadersLike): Response {
  const h = new Headers(headers);
  h.set("content-type", "text/plain; charset=utf-8");
  return new Response(reason + "\n", { status, headers: h });
}

/** The answer to an upgrade that arrives while the endpoint closes. */
export function shuttingDown(): Response {
  return refuse(503, "Service Unavailable: the server is shutting down");
}

/** The answer to a plain HTTP request at a WebSocket-only endpoint. */
export function upgradeRequired(): Response {
  return refuse(426, "Upgrade Required: this endpoint speaks WebSocket only", {
    upgrade: "websocket",
    connection: "Upgrade",
  });
}

/**
 * Checks an upgrade request against RFC 6455 section 4.2.1.
 *
 * @returns A refusal response, or `null` when the request is well formed.
 */
export function checkHandshake(request: Request): Response | null {
  if (request.method !== "GET") {
    return refuse(405, `Cannot upgrade: method must be GET, got ${request.method}`, {
      allow: "GET",
    });
  }
  const connection = request.headers.get("connection") ?? "";
  if (!connection.toLowerCase().split(",").some((v) => v.trim() === "upgrade")) {
    return refuse(400, "Cannot upgrade: the Connection header does not contain Upgrade");
  }
  const key = request.headers.get("sec-websocket-key");
  if (key === null) return refuse(400, "Cannot upgrade: Sec-WebSocket-Key is missing");
  if (!KEY.test(key.trim())) {
    return refuse(400, "Cannot upgrade: Sec-WebSocket-Key is not 16 bytes in base64");
  }
  const version = request.headers.get("sec-websocket-version");
  if (version?.trim() !== "13") {
    return refuse(
      400,
      `Cannot upgrade: Sec-WebSocket-Version must be 13, got ${version ?? "none"}`,
      { "sec-websocket-version": "13" },
    );
  }
  const offered = request.headers.get("sec-websocket-protocol");
  if (offered !== null && !offeredProtocols(request).every((p) => TOKEN.test(p))) {
    return refuse(400, "Cannot upgrade: Sec-WebSocket-Protocol is not a list of tokens");
  }
  return null;
}

/** The subprotocols offered in `Sec-WebSocket-Protocol`, in the client's order. */
export function offeredProtocols(request: Request): string[] {
  const header = request.headers.get("sec-websocket-protocol");
  if (!header) return [];
  return header.split(",").map((p) => p.trim()).filter((p) => p.length > 0);
}

/**
 * Reads the subprotocol and headers that the upgrade hook answered with. A hook that names
 * no subprotocol gets the first one the client offered, as with `ws`: a browser (and Bun's
 * client) fails a connection whose server chose none of its offers. `""` chooses none.
 *
 * @throws {TypeError} For a subprotocol the client did not offer, or headers that are not.
 */
export function readAcceptance(
  accept: { protocol?: unknown; headers?: unknown },
  offered: string[],
): { protocol: string; headers: Headers | undefined } {
  const protocol = accept.protocol ?? offered[0] ?? "";
  if (typeof protocol !== "string" || (protocol !== "" && !offered.includes(protocol))) {
    const chosen = typeof protocol === "string"
      ? `"${clip(protocol)}"`
      : `of type ${typeof protocol}`;
    const list = offered.length ? offeredList(offered) : "none";
    throw new TypeError(`Cannot accept subprotocol ${chosen}: the client offered ${list}`);
  }
  const headers = accept.headers;
  return {
    protocol,
    headers: headers === undefined ? undefined : new Headers(headers as HeadersLike),
  };
}

/**
 * Makes the warning, given once per endpoint, that an upgrade was accepted with none of the
 * subprotocols its client offered: browsers and Bun's client fail such a connection.
 *
 * @returns A check to call with each accepted upgrade's subprotocol and the client's offer.
 */
export function noProtocolWarning(): (protocol: string, offered: string[]) => void {
  let warned = false;
  return (protocol, offered) => {
    if (protocol !== "" || offered.length === 0 || warned) return;
    warned = true;
    console.warn(
      `wskit: accepted an upgrade with no subprotocol where the client offered ${
        offeredList(offered)
      }: browsers and Bun's client fail such a connection; answer one of the offered ` +
        "subprotocols from the upgrade hook, or refuse the upgrade (warned once per server)",
    );
  };
}

/** The first few subprotocols a client offered, each clipped: safe for a log line or an error. */
function offeredList(offered: string[]): string {
  const list = offered.slice(0, 3).map((p) => `"${clip(p, 40)}"`).join(", ");
  return offered.length > 3 ? `${list}, ...` : list;
}

/** A client string cut to a length that is safe to put in a log line or an answer. */
export function clip(text: string, max = 100): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}

/** Web schemes and the HTTP scheme of the page that opens a socket with them. */
const SCHEMES = new Map([
  ["http:", "http:"],
  ["ws:", "http:"],
  ["https:", "https:"],
  ["wss:", "https:"],
]);
/** What a `Host` header may hold: a host and a port, nothing that would read as a URL part. */
const HOST = /^[A-Za-z0-9.\-_~%!$&'()*+,;=:[\]]+$/;

/**
 * An origin as `scheme//host[:port]`, with `ws:` read as `http:` and `wss:` as `https:`, the
 * host in lower case and a default port left out.
 *
 * @returns `undefined` for anything that is not an http(s) or ws(s) origin (`"null"` too).
 */
export function webOrigin(origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  const scheme = SCHEMES.get(url.protocol);
  if (scheme === undefined || url.host === "") return undefined;
  // Read again under the page's scheme so that a default port (80 or 443) is left out.
  return new URL(`${scheme}//${url.host}`).origin;
}

/** What the default origin check knows besides the request. */
export interface OriginPolicy {
  /** The origins the server is reached at, as {@linkcode webOrigin} gives them. */
  publicOrigins: ReadonlySet<string>;
  /** Whether a remote address is a proxy whose forwarding headers are believed. */
  trusted: (address: string | undefined) => boolean;
  /** Whether the server listens on a loopback address only. */
  loopbackListener: boolean;
}

/**
 * The default origin check: a page of one of the public origins, or of the origin the
 * request itself was made to (scheme, host and port); a loopback client must name a
 * loopback host. See `EndpointOptions.origins` for what it protects against.
 */
export function sameOrigin(
  policy: OriginPolicy,
): (origin: string, request: Request, remoteAddress: string | undefined) => boolean {
  return (origin, request, remoteAddress) => {
    const page = webOrigin(origin);
    if (page === undefined) return false;
    if (policy.publicOrigins.has(page)) return true;
    const trusted = policy.trusted(remoteAddress);
    const forwarded = trusted ? firstValue(request.headers.get("x-forwarded-proto")) : "";
    const scheme = SCHEMES.get(`${forwarded.toLowerCase()}:`) ??
      (request.url.startsWith("https:") ? "https:" : "http:");
    const host = (trusted && firstValue(request.headers.get("x-forwarded-host"))) ||
      request.headers.get("host");
    if (!host || !HOST.test(host) || webOrigin(`${scheme}//${host}`) !== page) return false;
    if (trusted || !(policy.loopbackListener || isLoopbackAddress(remoteAddress))) return true;
    // DNS rebinding: the attacker's name resolves to 127.0.0.1, so Host and Origin agree.
    return isLoopbackHost(new URL(page).hostname);
  };
}

function firstValue(header: string | null): string {
  if (header === null) return "";
  const comma = header.indexOf(",");
  return (comma < 0 ? header : header.slice(0, comma)).trim();
}

/** An IP address as the runtimes may spell it, in one form: IPv4-mapped IPv6 as IPv4. */
function normalAddress(address: string): string {
  const a = address.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}

/** Whether `address` is a loopback IP address (127.0.0.0/8, ::1). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = normalAddress(address);
  return a === "::1" || /^127\.\d+\.\d+\.\d+$/.test(a);
}

/** Whether a URL hostname names the loopback interface. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || h === "[::1]" ||
    /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(h) || isLoopbackAddress(h);
}

/**
 * Decides which remote addresses are proxies to believe, from the `trustProxy` option.
 *
 * @throws {TypeError} For a value that is neither a boolean, a list nor a function.
 */
export function proxyTrust(
  trust: boolean | string[] | ((address: string) => boolean) | undefined,
): (address: string | undefined) => boolean {
  if (trust === undefined || trust === false) return () => false;
  if (trust === true) return () => true;
  if (typeof trust === "function") {
    return (address) => {
      if (address === undefined) return false;
      try {
        return trust(address) === true;
      } catch {
        return false; // a policy that cannot decide trusts nobody
      }
    };
  }
  if (!Array.isArray(trust)) {
    throw new TypeError(
      "Cannot configure trustProxy: expected a boolean, a list of addresses or a function",
    );
  }
  const set = new Set(trust.map(normalAddress));
  return (address) => address !== undefined && set.has(normalAddress(address));
}

/**
 * The address of the client behind a request: the remote address, or for a trusted proxy
 * the last address in `X-Forwarded-For` that is not itself a trusted proxy.
 */
export function clientAddress(
  request: Request,
  remoteAddress: string | undefined,
  trusted: (address: string | undefined) => boolean,
): string | undefined {
  if (!trusted(remoteAddress)) return remoteAddress;
  const header = request.headers.get("x-forwarded-for");
  if (!header) return remoteAddress;
  const hops = header.split(",").map((h) => h.trim()).filter((h) => h !== "");
  let i = hops.length - 1;
  while (i > 0 && trusted(hops[i])) i--;
  // Clipped: the address becomes a key that the endpoint holds while the connection lasts.
  return i >= 0 ? normalAddress(hops[i]!).slice(0, 64) : remoteAddress;
}

/**
 * The headers a peer keeps, read now (Deno's request is unusable once upgraded) into one
 * flat string: a `Headers` object would cost each idle peer about 0.8 KiB, and iterating
 * Deno's request headers makes Deno cache a sorted copy of them on the request it keeps for
 * the connection's life, about 2 KiB more: names are looked up one by one unless all are
 * asked for. (Header values hold no line breaks, names no colon.)
 */
export function keptHeaders(all: Headers, names: readonly string[] | undefined): string {
  const lines: string[] = [];
  if (names === undefined) {
    all.forEach((value, name) => void lines.push(`${name}:${value}`));
  } else {
    for (const name of names) {
      const value = all.get(name);
      if (value !== null) lines.push(`${name}:${value}`);
    }
  }
  return lines.join("\n");
}
