/**
 * Which merged lists changed: the gateway's offer as clients were last told it, compared with
 * the offer now, so clients hear `notifications/<kind>/list_changed` only for lists whose
 * content changed.
 */

/** A merged list clients can be told changed: `notifications/<kind>/list_changed`. */
export type ListKind = "tools" | "prompts" | "resources";

/** Every {@link ListKind}, in the order listeners hear them. */
export const LIST_KINDS: readonly ListKind[] = ["tools", "prompts", "resources"];

/** Each merged list as JSON text, the form {@link ListChanges} compares. */
export type ListTexts = Record<ListKind, string>;

/** Tells listeners which merged lists differ from what they were last told. */
export class ListChanges {
  readonly #read: () => ListTexts;
  #listeners = new Set<(changed: ReadonlySet<ListKind>) => void>();
  #told?: ListTexts;
  #version = 0;

  /**
   * `read` gives the merged lists now; it is not called until {@link ListChanges.baseline} or
   * {@link ListChanges.notify}, so it may read what is built after this.
   */
  constructor(read: () => ListTexts) {
    this.#read = read;
  }

  /** Takes the merged lists now as what clients were told (before the first notify). */
  baseline(): void {
    this.#told = this.#read();
  }

  /** A counter that changes with every {@link ListChanges.notify} (for cache keys). */
  get version(): number {
    return this.#version;
  }

  /** Subscribes `listener`; returns the unsubscribe function. */
  onChange(listener: (changed: ReadonlySet<ListKind>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Something in the offer may have changed: bumps the version and gives every listener the
   * kinds whose content differs (empty when none does, e.g. only a state changed).
   */
  notify(): void {
    this.#version++;
    const now = this.#read();
    const changed = new Set<ListKind>();
    for (const kind of LIST_KINDS) if (now[kind] !== this.#told?.[kind]) changed.add(kind);
    this.#told = now;
    for (const listener of this.#listeners) listener(changed);
  }

  /** Drops every listener (the gateway is closing). */
  clear(): void {
    this.#listeners.clear();
  }
}
