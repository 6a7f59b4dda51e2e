/**
 * Headless Chromium for tests, driven over the DevTools protocol with the runtime's own
 * `WebSocket`: no automation package. One browser per test; each page gets a browser context
 * of its own (its own storage, as a second person's browser would have), and records every
 * uncaught exception, console error and log error it produces.
 */

import { removeDir, tempDir, writeBytes } from "./files.ts";
import { which } from "./harness.ts";
import { type Child, spawn } from "./process.ts";
import { deferred, waitFor, within } from "./wait.ts";

/** An exception, console error or log error that a page produced. */
export interface PageProblem {
  /** The page's name. */
  page: string;
  /** `"exception"`, `"console"` or `"log"`. */
  kind: "exception" | "console" | "log";
  /** `Log.entryAdded`'s source (`"network"`, `"javascript"`, ...); `""` for the others. */
  source: string;
  text: string;
  /** `Date.now()` when it arrived. */
  at: number;
}

/** A viewport: CSS pixels, device pixel ratio, and whether it is a phone. */
export interface Viewport {
  width: number;
  height: number;
  scale?: number;
  mobile?: boolean;
}

/** A phone held upright. */
export const PHONE: Viewport = { width: 390, height: 844, scale: 2, mobile: true };
/** A small desktop window. */
export const DESKTOP: Viewport = { width: 1024, height: 720 };

type Params = Record<string, unknown>;
type Handler = (params: Params) => void;

interface DenoKill {
  kill(pid: number, signal: string): void;
}
interface NodeKill {
  kill(pid: number, signal: string): void;
}

/** Sends SIGKILL to a whole process group; quiet when the group is gone already. */
function killGroup(pgid: number): void {
  const deno = (globalThis as unknown as { Deno?: DenoKill }).Deno;
  const proc = (globalThis as unknown as { process?: NodeKill }).process;
  try {
    if (deno) deno.kill(-pgid, "SIGKILL");
    else proc!.kill(-pgid, "SIGKILL");
  } catch { /* nothing left */ }
}

/** One DevTools connection: commands with replies, events by method and session. */
class Connection {
  readonly #ws: WebSocket;
  readonly #pending = new Map<
    number,
    { method: string; resolve(v: Params): void; reject(e: Error): void }
  >();
  readonly #handlers = new Map<string, Handler[]>();
  readonly closed: Promise<void>;
  #id = 0;

  private constructor(ws: WebSocket, closed: Promise<void>) {
    this.#ws = ws;
    this.closed = closed;
    ws.addEventListener("message", (e) => {
      const m = JSON.parse(String((e as MessageEvent).data)) as {
        id?: number;
        method?: string;
        params?: Params;
        sessionId?: string;
        result?: Params;
        error?: { message: string };
      };
      if (m.id !== undefined) {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.error) p?.reject(new Error(`Cannot run ${p.method}: ${m.error.message}`));
        else p?.resolve(m.result ?? {});
        return;
      }
      for (const h of this.#handlers.get(`${m.sessionId ?? ""} ${m.method}`) ?? []) {
        h(m.params ?? {});
      }
    });
    closed.then(() => {
      for (const p of this.#pending.values()) p.reject(new Error("DevTools connection closed"));
      this.#pending.clear();
    });
  }

  static async open(url: string): Promise<Connection> {
    const ws = new WebSocket(url);
    const opened = deferred<void>();
    const closed = deferred<void>();
    ws.addEventListener("open", () => opened.resolve());
    ws.addEventListener("close", () => {
      closed.resolve();
      opened.reject(new Error(`Cannot reach DevTools at ${url}: closed before open`));
    });
    const connection = new Connection(ws, closed.promise);
    await within(opened.promise, "the DevTools connection", 10_000);
    return connection;
  }

  send(method: string, params: Params = {}, sessionId?: string): Promise<Params> {
    const id = ++this.#id;
    const reply = deferred<Params>();
    this.#pending.set(id, { method, ...reply });
    this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) }));
    return within(reply.promise, `the reply to ${method}`, 15_000);
  }

  on(method: string, sessionId: string, handler: Handler): void {
    const key = `${sessionId} ${method}`;
    this.#handlers.set(key, [...(this.#handlers.get(key) ?? []), handler]);
  }

  async close(): Promise<void> {
    if (this.#ws.readyState < WebSocket.CLOSING) this.#ws.close();
    await within(this.closed, "the DevTools connection to close", 5_000).catch(() => {});
  }
}

/** A page (tab) of a {@linkcode Browser}. */
export class Page {
  readonly name: string;
  readonly problems: PageProblem[] = [];
  readonly #cdp: Connection;
  readonly #session: string;
  #loads = 0;

  constructor(name: string, cdp: Connection, session: string) {
    this.name = name;
    this.#cdp = cdp;
    this.#session = session;
    const problem = (kind: PageProblem["kind"], source: string, text: string) =>
      this.problems.push({ page: name, kind, source, text, at: Date.now() });
    cdp.on("Runtime.exceptionThrown", session, (p) => {
      const d = p.exceptionDetails as { text: string; exception?: { description?: string } };
      problem("exception", "", d.exception?.description ?? d.text);
    });
    cdp.on("Runtime.consoleAPICalled", session, (p) => {
      if (p.type !== "error" && p.type !== "assert") return;
      const args = p.args as { value?: unknown; description?: string }[];
      problem("console", "", args.map((a) => a.description ?? String(a.value)).join(" "));
    });
    cdp.on("Log.entryAdded", session, (p) => {
      const e = p.entry as { level: string; source: string; text: string; url?: string };
      if (e.level === "error") problem("log", e.source, `${e.text}${e.url ? ` (${e.url})` : ""}`);
    });
    cdp.on("Page.loadEventFired", session, () => this.#loads++);
  }

  /** Sends a DevTools command to this page. */
  send(method: string, params: Params = {}): Promise<Params> {
    return this.#cdp.send(method, params, this.#session);
  }

  /** Navigates and waits for the load event. */
  async goto(url: string): Promise<void> {
    const loads = this.#loads;
    const { errorText } = await this.send("Page.navigate", { url });
    if (errorText) throw new Error(`Cannot load ${url} in ${this.name}: ${errorText}`);
    await waitFor(() => this.#loads > loads, `${this.name} to load ${url}`, 15_000);
  }

  /** Evaluates an expression in the page (awaiting a promise) and returns its value. */
  async evaluate<T = unknown>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    const failure = r.exceptionDetails as
      | { text: string; exception?: { description?: string } }
      | undefined;
    if (failure) {
      throw new Error(
        `${this.name}: ${expression} threw ${failure.exception?.description ?? failure.text}`,
      );
    }
    return (r.result as { value?: T }).value as T;
  }

  /**
   * Evaluates `expression` until it is truthy and returns that value; rejects at the
   * deadline with the last value seen.
   */
  async waitFor<T = unknown>(expression: string, what: string, timeout = 10_000): Promise<T> {
    const end = Date.now() + timeout;
    let last: unknown;
    while (true) {
      last = await this.evaluate<T>(expression);
      if (last) return last as T;
      if (Date.now() > end) {
        throw new Error(
          `Timed out after ${timeout} ms waiting in ${this.name} for ${what} (last: ${
            JSON.stringify(last)
          })`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Focuses the element with this id and types `text` into it, as a keyboard would. */
  async type(id: string, text: string): Promise<void> {
    await this.evaluate(`document.getElementById(${JSON.stringify(id)}).focus()`);
    await this.send("Input.insertText", { text });
  }

  /** Presses Enter in the focused element. */
  async pressEnter(): Promise<void> {
    const key = { key: "Enter", code: "Enter", windowsVirtualKeyCode: 13 };
    await this.send("Input.dispatchKeyEvent", { type: "keyDown", text: "\r", ...key });
    await this.send("Input.dispatchKeyEvent", { type: "keyUp", ...key });
  }

  /** Writes a PNG screenshot of the viewport to `path` (folders are created). */
  async screenshot(path: string): Promise<void> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png" });
    const bytes = Uint8Array.from(atob(data as string), (c) => c.charCodeAt(0));
    await writeBytes(path, bytes);
  }
}

/**
 * What makes a page hard to use, as a list (empty when none): fields without a label, and
 * content wider than the viewport (which a phone would scroll sideways).
 */
export async function usabilityFaults(page: Page): Promise<string[]> {
  return await page.evaluate<string[]>(`[
    ...[...document.querySelectorAll("input, textarea, select")]
      .filter((field) => field.labels.length === 0)
      .map((field) => "no label: #" + field.id),
    ...(document.documentElement.scrollWidth > innerWidth
      ? ["wider than the viewport: " + document.documentElement.scrollWidth + " px"]
      : []),
  ]`);
}

/** The flags the tests run Chromium with, besides the profile folder. */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--remote-debugging-port=0",
  // Containers often give /dev/shm a few MB, too little for a renderer.
  "--disable-dev-shm-usage",
  "--hide-scrollbars",
  "--mute-audio",
];

/** A headless Chromium with a fresh profile, in a process group of its own. */
export class Browser {
  readonly #child: Child;
  readonly #cdp: Connection;
  readonly #profile: string;
  readonly #pages: Page[] = [];

  private constructor(child: Child, cdp: Connection, profile: string) {
    this.#child = child;
    this.#cdp = cdp;
    this.#profile = profile;
  }

  /**
   * Starts Chromium and connects to it. `setsid` makes it the leader of a new process group,
   * so that {@linkcode close} can kill its renderers and helpers along with it.
   */
  static async launch(): Promise<Browser> {
    const chromium = which("chromium");
    if (!chromium) throw new Error("Cannot launch Chromium: chromium is not on PATH");
    const profile = await tempDir("wskit-chromium-");
    const args = [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, "about:blank"];
    const setsid = which("setsid");
    const child = setsid ? spawn(setsid, [chromium, ...args]) : spawn(chromium, args);
    try {
      let exited = false;
      child.exited.then(() => exited = true);
      const listening = /DevTools listening on (ws:\/\/\S+)/;
      await waitFor(
        () => exited || listening.test(child.stderr()),
        "Chromium's DevTools address",
        20_000,
      );
      const url = listening.exec(child.stderr())?.[1];
      if (!url) throw new Error(`Cannot launch Chromium: it exited; stderr:\n${child.stderr()}`);
      return new Browser(child, await Connection.open(url), profile);
    } catch (error) {
      killGroup(child.pid);
      await child.exited;
      await removeDir(profile);
      throw error;
    }
  }

  /** Every problem of every page, in order of arrival. */
  get problems(): PageProblem[] {
    return this.#pages.flatMap((p) => p.problems).sort((a, b) => a.at - b.at);
  }

  /** Opens a page in a browser context of its own, at an optional viewport size. */
  async newPage(name: string, viewport?: Viewport): Promise<Page> {
    const { browserContextId } = await this.#cdp.send("Target.createBrowserContext");
    const { targetId } = await this.#cdp.send("Target.createTarget", {
      url: "about:blank",
      browserContextId,
    });
    const { sessionId } = await this.#cdp.send("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const page = new Page(name, this.#cdp, sessionId as string);
    this.#pages.push(page);
    await Promise.all([
      page.send("Runtime.enable"),
      page.send("Log.enable"),
      page.send("Page.enable"),
    ]);
    if (viewport) {
      await page.send("Emulation.setDeviceMetricsOverride", {
        width: viewport.width,
        height: viewport.height,
        deviceScaleFactor: viewport.scale ?? 1,
        mobile: viewport.mobile ?? false,
      });
    }
    return page;
  }

  /**
   * Closes the browser: `Browser.close`, then SIGKILL to the whole process group whatever
   * happened (a hung browser, helpers left behind), then removes the profile. Never throws.
   */
  async close(): Promise<void> {
    try {
      await within(this.#cdp.send("Browser.close"), "Browser.close", 5_000);
      await within(this.#child.exited, "Chromium to exit", 5_000);
    } catch { /* a hung browser: killed below */ }
    killGroup(this.#child.pid);
    await this.#child.exited;
    // With Chromium gone, the connection's close event comes at once.
    await this.#cdp.close();
    await removeDir(this.#profile);
  }
}
