// Device signatures of messages arriving from other servers, checked on the
// signature pool before the core sees their frame (docs/protocol.md §12.13):
// every server verifies every message it shows, and at a thousand messages a
// second that check is a quarter of a relay's event loop. The pool's verdict
// is only a head start: a body it passes is remembered so the projection
// does not verify it again (verification/verified-messages.ts), and anything
// else is verified inline by the projection, which refuses it with its code.
// Waiting for the pool must not reorder a peer's frames, so each frame is
// handed to the driver only after every earlier frame of that peer was.

import type { Frame } from "@parley/federation";
import type { ServerName, VerifiedRoomMessage } from "@parley/protocol";
import { verifyRoomMessageOnPool } from "../verification/preverified.ts";
import type { SignaturePool } from "../verification/signature-pool.ts";

/** Starts checking a frame's message bodies; resolves when done (never rejects). */
export type RoutedMessageCheck = (bodies: readonly Uint8Array[]) => Promise<void>;

/** Verifies each body on `pool` and tells `verified` of those that pass. */
export function routedMessageCheck(
  pool: SignaturePool,
  verified: (body: Uint8Array, message: VerifiedRoomMessage) => void,
): RoutedMessageCheck {
  return async (bodies) => {
    await Promise.all(
      bodies.map(async (body) => {
        const message = await verifyRoomMessageOnPool(body, pool);
        if (message !== null) verified(body, message);
      }),
    );
  };
}

/** The message bodies a frame carries from another server, which it will show. */
export function messageBodiesOf(frame: Frame): readonly Uint8Array[] {
  if (frame.type === "routed") return [frame.message.body];
  if (frame.type === "backfill-response") return frame.messages.map((message) => message.body);
  return [];
}

interface Invoked<T> {
  readonly outcome: Promise<T>;
}

/** Hands each peer's frames over in arrival order, each once what it waits for is ready. */
export class OrderedHandoffs {
  /** Per peer, settles once the latest frame's handoff was called. */
  readonly #tails = new Map<ServerName, Promise<unknown>>();

  /** Calls `handoff` after `ready` and after every earlier handoff of `peer` was called. */
  run<T>(peer: ServerName, ready: Promise<unknown> | null, handoff: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(peer);
    if (previous === undefined && ready === null) return handoff();
    const gate = Promise.all([previous, ready]);
    // Wrapped so the tail settles when the handoff is called, not when the
    // driver has made its effects durable: frames are still handled together.
    const invoked = gate.then((): Invoked<T> => ({ outcome: handoff() }));
    const tail = invoked.catch(() => undefined);
    this.#tails.set(peer, tail);
    void tail.then(() => {
      if (this.#tails.get(peer) === tail) this.#tails.delete(peer);
    });
    return invoked.then((called) => called.outcome);
  }
}
