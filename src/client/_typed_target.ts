/**
 * `TypedEventTarget`: an `EventTarget` whose `addEventListener` and `removeEventListener`
 * know the event class of each type, shared by the reconnecting client and the session
 * client so that the overloads are written once.
 *
 * @module
 */

/**
 * A listener for events of class `E`: a function or an object with `handleEvent`.
 *
 * @typeParam E The event class.
 */
export type TypedListener<E> = ((event: E) => void) | { handleEvent(event: E): void };

/**
 * Any listener, as `EventTarget` takes it (declared here: not every type library has it). A
 * `null` listener goes to `EventTarget` cast to this type: the standard ignores `null`, but
 * Bun's type library does not accept it.
 */
type AnyListener = ((event: Event) => void) | { handleEvent(event: Event): void };

let listened: (target: TypedEventTarget<unknown>, type: string) => boolean;

/**
 * Whether a listener of `type` was ever added to `target` through its `addEventListener`: an
 * event that no one can hear need not be built (a message event per message is the costly one).
 */
export function hasListened(target: TypedEventTarget<unknown>, type: string): boolean {
  return listened(target, type);
}

/**
 * An `EventTarget` typed by an event map: `addEventListener("open", (e) => ...)` gives `e`
 * the class the map names for `"open"`; other types get `Event`.
 *
 * @example A target with typed events
 * ```ts
 * import { TypedEventTarget } from "@wskit/wskit/client";
 *
 * class Clock extends TypedEventTarget<{ tick: CustomEvent<number> }> {}
 * const clock = new Clock();
 * clock.addEventListener("tick", (e) => console.log(e.detail.toFixed(0)));
 * clock.dispatchEvent(new CustomEvent("tick", { detail: 1 }));
 * ```
 *
 * @typeParam M The event map: event type to event class.
 */
export class TypedEventTarget<M> extends EventTarget {
  /** Types that ever had a listener; never shrinks (`once` and `signal` remove listeners unseen). */
  #listened = new Set<string>();

  static {
    listened = (target, type) => target.#listened.has(type);
  }

  /**
   * Adds a listener; typed for the events of the map.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options As for `EventTarget.addEventListener`.
   */
  override addEventListener<K extends keyof M & string>(
    type: K,
    listener: TypedListener<M[K]> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Adds a listener for any event type.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options As for `EventTarget.addEventListener`.
   */
  override addEventListener(
    type: string,
    listener: TypedListener<Event> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: TypedListener<never> | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (listener) this.#listened.add(type);
    super.addEventListener(type, listener as AnyListener, options);
  }

  /**
   * Removes a listener; typed for the events of the map.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options As for `EventTarget.removeEventListener`.
   */
  override removeEventListener<K extends keyof M & string>(
    type: K,
    listener: TypedListener<M[K]> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /**
   * Removes a listener for any event type.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options As for `EventTarget.removeEventListener`.
   */
  override removeEventListener(
    type: string,
    listener: TypedListener<Event> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: TypedListener<never> | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as AnyListener, options);
  }
}
