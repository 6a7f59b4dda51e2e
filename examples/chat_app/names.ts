/**
 * The chat's names: each is one person's. A name that someone online goes by (compared after
 * NFKC and case folding, so `Ada`, `ADA` and `ａｄａ` are one name; joiners and variation
 * selectors do not count) is refused, and so are `server` and `system`, names with control,
 * invisible (zero-width, fillers) or direction-changing characters, and names with no letter,
 * digit or symbol.
 *
 * @module
 */

/** Why the chat refused something, as the client is told. */
export interface Refusal {
  error: string;
  code: string;
}

/** Longest accepted name. */
export const MAX_NAME = 32;

/** Control characters, and halves of surrogate pairs that are not text. */
const CONTROL = /[\p{Cc}\p{Cs}]/u;
/**
 * Characters that show nothing or turn the text around them (zero-width spaces, direction
 * overrides and isolates, fillers, the braille blank). The joiners and variation selectors
 * that emoji and some scripts need are allowed, and {@linkcode nameKey} ignores them.
 */
const INVISIBLE =
  /(?![\u200C\u200D\uFE00-\uFE0F\u{E0100}-\u{E01EF}])[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}\u2800]/u;
const JOINERS = /[\u200C\u200D\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/gu;
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;
/** Names that would pass for the server's own voice. */
const RESERVED = new Set(["server", "system"]);

/** The refusal of a name someone online goes by. */
export const TAKEN: Refusal = {
  error: "Cannot use the name: someone online goes by it",
  code: "name_taken",
};

function badName(reason: string, code = "bad_name"): Refusal {
  return { error: `Cannot use the name: ${reason}`, code };
}

/** What two names are compared by: `Ada`, `ADA` and `ａｄａ` are one name. */
export function nameKey(name: string): string {
  return name.replace(JOINERS, "").normalize("NFKC").toUpperCase().toLowerCase();
}

/**
 * Checks a name and returns it cleaned (NFKC, runs of spaces as one, trimmed): what everyone
 * sees is what was checked.
 */
export function checkName(name: unknown): string | Refusal {
  const length = `it has 1 to ${MAX_NAME} characters`;
  // Longer input is refused before normalizing, which may grow it.
  if (typeof name !== "string" || name.length > MAX_NAME * 4) return badName(length);
  const normal = name.normalize("NFKC");
  if (CONTROL.test(normal)) return badName("it has control characters");
  if (INVISIBLE.test(normal)) return badName("it has invisible or direction-changing characters");
  const clean = normal.replace(/\s+/gu, " ").trim();
  if (clean.length === 0 || clean.length > MAX_NAME) return badName(length);
  if (!VISIBLE.test(clean)) return badName("it needs a letter, a digit or a symbol");
  if (RESERVED.has(nameKey(clean))) return badName("it is the server's", "reserved_name");
  return clean;
}

/** Whoever holds a name: anything with a `name` the registry may set. */
export interface Holder {
  name: string;
}

/**
 * Who goes by which name: one person per name (as {@linkcode nameKey} compares them), among
 * the plain clients and the live sessions, connected or within their window.
 */
export class Names {
  #holders = new Map<string, Holder>();
  /** Whether a holder is still there; a session taken over by another instance is not. */
  #live = new WeakMap<Holder, () => boolean>();
  #guests = 0;
  #pruneAt = 64;

  /** Gives `holder` the name, unless someone else goes by it. */
  claim(holder: Holder, name: string, live?: () => boolean): boolean {
    if (live) this.#live.set(holder, live);
    const key = nameKey(name);
    const current = this.#holders.get(key);
    if (current && current !== holder && (this.#live.get(current)?.() ?? true)) return false;
    this.release(holder);
    this.#holders.set(key, holder);
    holder.name = name;
    if (this.#holders.size > this.#pruneAt) {
      this.#prune();
      this.#pruneAt = Math.max(64, 2 * this.#holders.size);
    }
    return true;
  }

  /** Frees the name `holder` goes by, if it is theirs. */
  release(holder: Holder): void {
    const key = nameKey(holder.name);
    if (this.#holders.get(key) === holder) this.#holders.delete(key);
  }

  /** A `guest-N` name no one here goes by, nor any of `elsewhere` (name keys). */
  guest(elsewhere: ReadonlySet<string> = new Set()): string {
    let name;
    do name = `guest-${++this.#guests}`; while (this.#holders.has(name) || elsewhere.has(name));
    return name;
  }

  /** Forgets holders that went away without a word (sessions taken over elsewhere). */
  #prune(): void {
    for (const [key, holder] of this.#holders) {
      if (!(this.#live.get(holder)?.() ?? true)) this.#holders.delete(key);
    }
  }
}
