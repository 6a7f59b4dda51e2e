/**
 * Checks on the HTTP side of an upgrade: is this an upgrade at all, is it well formed, and
 * which subprotocols were offered. Every refusal is a plain-text response with a reason.
 *
 * @module
 */

const KEY = /^[A-Za-z0-9+/]{22}==$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether the request asks for a WebSocket upgrade (`Upgrade: websocket`, any case). */
export function isUpgrade(request: Request): boolean {
  const upgrade = request.headers.get("upgrade");
  return upgrade !== null && upgrade.toLowerCase().split(",").some((v) => v.trim() === "websocket");
}

/** A plain-text response carrying a reason, the only form of refusal the core produces. */
export function refuse(status: number, reason: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "text/plain; charset=utf-8");
  return new Response(reason + "\n", { status, headers: h });
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
