// Room message envelopes this server has verified, keyed by their content.
// A message should cost one signature check per server: at the edge where it
// entered (a local device's send, a leaf's submission, a routed frame checked
// on the signature pool), after which projecting it into the stream finds it
// here. Keyed by a digest of the bytes rather than by the object, because the
// sender's own server gets its message back from the sponsor as new bytes;
// equal bytes verify equally, so a hit is as good as a check. Bounded by the
// bytes it holds, since bodies may be large.

import { createHash } from "node:crypto";
import type { VerifiedRoomMessage } from "@parley/protocol";
import { verifiedMessagesBytesMax } from "../limits.ts";

interface Entry {
  readonly message: VerifiedRoomMessage;
  readonly bytes: number;
}

function keyOf(envelope: Uint8Array): string {
  return createHash("sha256").update(envelope).digest("base64url");
}

export class VerifiedMessages {
  readonly #entries = new Map<string, Entry>();
  readonly #bytesMax: number;
  #bytes = 0;

  constructor(bytesMax = verifiedMessagesBytesMax) {
    this.#bytesMax = bytesMax;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Remembers that `envelope` verified as `message`. */
  note(envelope: Uint8Array, message: VerifiedRoomMessage): void {
    const key = keyOf(envelope);
    if (this.#entries.has(key)) return;
    // The verified message holds views of the envelope plus its own fields.
    const bytes = envelope.byteLength + message.signedBytes.byteLength;
    if (bytes > this.#bytesMax) return;
    this.#entries.set(key, { message, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#bytesMax) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }

  /** The verified form of `envelope`, if these exact bytes were verified; an entry answers once. */
  take(envelope: Uint8Array): VerifiedRoomMessage | undefined {
    const key = keyOf(envelope);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    return entry.message;
  }
}
