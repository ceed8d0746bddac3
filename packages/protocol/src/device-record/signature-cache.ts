import { assertArgument } from "../errors/parley-error.ts";
import type { ContentId } from "../identifiers/content-id.ts";
import { verifiedSignatureCacheEntriesDefault } from "../limits.ts";

/**
 * Remembers which exact objects (by content id, that is by SHA-256 of their
 * bytes) already had all their signatures verified. A server meets the same
 * device records again and again; a hit skips two Ed25519 verifications.
 *
 * Sound because a device record carries every public key its signatures are
 * checked against, so "the signatures in these bytes are valid" depends on
 * the bytes alone. Everything that depends on time or on other documents
 * (validity windows, which server key was valid when, revocation, sequence)
 * is checked again on every verification, cached or not.
 *
 * Bounded: least recently used entries are dropped beyond `entriesMax`.
 */
export class VerifiedSignatureCache {
  readonly entriesMax: number;
  readonly #entries = new Set<ContentId>();
  #hits = 0;
  #misses = 0;

  constructor(entriesMax: number = verifiedSignatureCacheEntriesDefault) {
    assertArgument(
      Number.isSafeInteger(entriesMax) && entriesMax > 0,
      "entriesMax must be a positive integer",
    );
    this.entriesMax = entriesMax;
  }

  /** Whether `id` is known to have valid signatures; marks it recently used. */
  has(id: ContentId): boolean {
    if (!this.#entries.delete(id)) {
      this.#misses += 1;
      return false;
    }
    this.#entries.add(id);
    this.#hits += 1;
    return true;
  }

  /** Records that every signature in the object `id` verified. */
  add(id: ContentId): void {
    this.#entries.delete(id);
    this.#entries.add(id);
    if (this.#entries.size > this.entriesMax) {
      const oldest = this.#entries.values().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  get stats(): { readonly hits: number; readonly misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }
}
