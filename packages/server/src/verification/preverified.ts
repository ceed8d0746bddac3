// Signatures a worker thread has verified, handed to the synchronous
// provider the message path calls (rooms/messages.ts verifies with
// `verifyRoomMessage(provider, ...)`, which cannot wait for a thread). The
// client API verifies an envelope's signature on the pool first and records
// it here; the provider's check then finds it and answers at once, without
// repeating the work. An entry is used once and matched on all three of key,
// message and signature, so nothing unverified can pass; anything not found
// is verified on the spot as before.

import { createHash } from "node:crypto";
import { ParleyError, type VerifiedRoomMessage, verifyRoomMessage } from "@parley/protocol";
import { preverifiedSignaturesMax } from "../limits.ts";
import type { SignatureCheck, SignaturePool } from "./signature-pool.ts";

function keyOf(check: SignatureCheck): string {
  return createHash("sha256")
    .update(check.publicKey)
    .update(check.signature)
    .update(check.message)
    .digest("base64url");
}

export class PreverifiedSignatures {
  readonly #entries = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = preverifiedSignaturesMax) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  add(check: SignatureCheck): void {
    if (this.#entries.size >= this.#capacity) {
      // The oldest entry's request is long answered or gone; it verifies again if not.
      const oldest = this.#entries.values().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.add(keyOf(check));
  }

  /** Whether this exact check was verified on the pool; an entry answers once. */
  take(check: SignatureCheck): boolean {
    return this.#entries.delete(keyOf(check));
  }
}

interface RecordedEnvelope {
  /** What the envelope verifies as, if its recorded checks pass. */
  readonly message: VerifiedRoomMessage;
  readonly checks: readonly SignatureCheck[];
}

/** Decodes an envelope, recording the checks its verification asks for (answered true) so they can go to the pool. */
function recordEnvelope(envelope: Uint8Array): RecordedEnvelope | null {
  const checks: SignatureCheck[] = [];
  const recorder = {
    name: "recorder",
    generateKeyPair: () => {
      throw new Error("the recorder only verifies");
    },
    publicKeyFromSeed: () => {
      throw new Error("the recorder only verifies");
    },
    sign: () => {
      throw new Error("the recorder only verifies");
    },
    verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) {
      checks.push({ publicKey, message, signature });
      return true;
    },
  };
  try {
    return { message: verifyRoomMessage(recorder, envelope), checks };
  } catch {
    // Malformed: the message path refuses it with the right code on its own.
    return null;
  }
}

/**
 * Verifies a room message that arrived from another server on the pool, so
 * the server's event loop does not; null when the pool is idle (verifying
 * inline is quicker then), saturated, or the envelope does not decode or
 * verify — in every such case the projection verifies it inline and refuses
 * it with its own code. Never throws.
 */
export async function verifyRoomMessageOnPool(
  envelope: Uint8Array,
  pool: SignaturePool,
): Promise<VerifiedRoomMessage | null> {
  if (pool.claimInlineTurn()) return null;
  const recorded = recordEnvelope(envelope);
  if (recorded === null) return null;
  try {
    const results = await Promise.all(recorded.checks.map((check) => pool.verify(check)));
    return results.every((valid) => valid) ? recorded.message : null;
  } catch {
    return null;
  }
}

/**
 * Verifies a room message envelope's signature on the pool, unless the pool
 * is idle (then the caller's own synchronous check is quicker). Throws
 * `signature_invalid` if it does not verify, `unavailable` if the pool is
 * saturated; otherwise records it so the message path's provider accepts it
 * without verifying again. Envelopes that do not decode are left to the
 * message path, which refuses them with their own code.
 */
export async function preverifyRoomMessage(
  envelope: Uint8Array,
  pool: SignaturePool,
  preverified: PreverifiedSignatures,
  options: { readonly always?: boolean } = {},
): Promise<void> {
  // An idle pool means no contention: the message path verifies inline, and a
  // lone message is not delayed by two thread hops (which cost milliseconds
  // on a loaded machine). Under load requests overlap and go to the pool.
  if (options.always !== true && pool.claimInlineTurn()) return;
  const checks = recordEnvelope(envelope)?.checks;
  if (checks === undefined) return;
  const results = await Promise.all(checks.map((check) => pool.verify(check)));
  if (results.some((valid) => !valid)) {
    throw new ParleyError("signature_invalid", "the room message signature does not verify");
  }
  for (const check of checks) preverified.add(check);
}
