/**
 * TLS for tests: a throwaway certificate authority and a server certificate it signed for
 * 127.0.0.1 and localhost, made with `openssl` (OpenSSL 3, Debian's) in a temporary folder,
 * and clients on either runtime that trust that authority and nothing else of it, so that
 * verification stays on. (A self-signed server certificate will not do: Deno's rustls refuses
 * a CA certificate as the server's own, `CaUsedAsEndEntity`.)
 */

import { readText, removeDir, tempDir } from "./files.ts";
import { runToEnd } from "./process.ts";

/** A certificate for 127.0.0.1 and localhost, its key, and the authority that signed it. */
export interface TestCertificate {
  /** The server's certificate, PEM. */
  cert: string;
  /** Its private key, PEM (PKCS#8, unencrypted). */
  key: string;
  /** The authority's certificate, PEM: what a client trusts. */
  ca: string;
  /** The files, for a server that reads them itself (`cert.pem`, `key.pem`, `ca.pem`). */
  files: { cert: string; key: string; ca: string };
  /** Removes the folder that holds the files. */
  remove(): Promise<void>;
}

/** EC P-256: a key in milliseconds, where RSA would take a while on a busy machine. */
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"];

/**
 * Makes a fresh certificate authority and a server certificate it signed, with subjectAltName
 * IP:127.0.0.1 and DNS:localhost. Call `remove()` when done.
 *
 * @throws {Error} When openssl fails (it says why).
 */
export async function testCertificate(): Promise<TestCertificate> {
  const dir = await tempDir("wskit-tls-");
  const files = { cert: `${dir}/cert.pem`, key: `${dir}/key.pem`, ca: `${dir}/ca.pem` };
  const caKey = `${dir}/ca.key`;
  try {
    await openssl([
      "req",
      "-x509",
      ...EC,
      "-keyout",
      caKey,
      "-out",
      files.ca,
      "-subj",
      "/CN=wskit test CA",
    ]);
    await openssl([
      ...["req", "-x509", "-CA", files.ca, "-CAkey", caKey, ...EC],
      ...["-keyout", files.key, "-out", files.cert, "-subj", "/CN=localhost"],
      ...["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
      ...["-addext", "basicConstraints=critical,CA:FALSE"],
    ]);
    const [cert, key, ca] = await Promise.all([files.cert, files.key, files.ca].map(readText));
    if (!cert || !key || !ca) throw new Error(`Cannot read what openssl wrote in ${dir}`);
    return { cert, key, ca, files, remove: () => removeDir(dir) };
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
}

async function openssl(args: string[]): Promise<void> {
  const failed = await runToEnd("openssl", args, 20_000);
  if (failed !== undefined) throw new Error(`Cannot make a test certificate: ${failed}`);
}

/** A WebSocket and fetch client of the running runtime that trusts one authority. */
export interface TrustingClient {
  /** `new WebSocket(url)`, trusting the authority, with subprotocols and extra headers. */
  webSocket(url: string, options?: { protocols?: string[]; headers?: HeadersInit }): WebSocket;
  /** `fetch(url, init)`, trusting the authority. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** Frees the client (Deno's HTTP client is a resource). */
  close(): void;
}

interface DenoHttpClients {
  createHttpClient(o: { caCerts: string[] }): { close(): void };
}

/**
 * A client trusting `ca` besides the system's authorities. Deno 2.9's `WebSocket` and `fetch`
 * take a `client` from `Deno.createHttpClient({ caCerts })` (the other ways, `--cert` and
 * `DENO_CERT`, are set per process); Bun's take `tls: { ca }`.
 */
export function trustingClient(ca: string): TrustingClient {
  const deno = (globalThis as unknown as { Deno?: DenoHttpClients }).Deno;
  // Both runtimes take these non-standard options in the place of the standard ones.
  const extra = deno ? { client: deno.createHttpClient({ caCerts: [ca] }) } : { tls: { ca } };
  const Socket = WebSocket as unknown as new (url: string, options: object) => WebSocket;
  return {
    webSocket: (url, options) => new Socket(url, { ...options, ...extra }),
    fetch: (url, init) => fetch(url, { ...init, ...extra } as RequestInit),
    close: () => "client" in extra && extra.client.close(),
  };
}
