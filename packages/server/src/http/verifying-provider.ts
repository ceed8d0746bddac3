// The homeserver's signature provider: node:crypto, with imported public keys
// kept in a bounded cache. Importing a key costs about as much as verifying
// with it, and the same few devices send most messages, so caching roughly
// doubles the verification rate on the message path. Signatures already
// verified on the worker pool (verification/preverified.ts) are answered from
// that record instead of being verified a second time.

import { createPublicKey, type KeyObject, verify } from "node:crypto";
import type { SignatureProvider } from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import type { PreverifiedSignatures } from "../verification/preverified.ts";

/** Public keys kept imported; a key object is a few hundred bytes. */
const cachedKeysMax = 10_000;

export function createVerifyingProvider(preverified?: PreverifiedSignatures): SignatureProvider {
  const keys = new Map<string, KeyObject>();

  function keyObjectOf(publicKey: Uint8Array): KeyObject | undefined {
    const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString(
      "base64url",
    );
    const cached = keys.get(x);
    if (cached !== undefined) return cached;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
    } catch {
      return undefined; // OpenSSL refuses some encodings; none of them can verify.
    }
    if (keys.size >= cachedKeysMax) {
      const oldest = keys.keys().next();
      if (oldest.done !== true) keys.delete(oldest.value);
    }
    keys.set(x, key);
    return key;
  }

  return {
    ...nodeSignatureProvider,
    name: "node-cached",
    verify(publicKey, message, signature) {
      if (publicKey.length !== 32 || signature.length !== 64) {
        return nodeSignatureProvider.verify(publicKey, message, signature);
      }
      if (preverified?.take({ publicKey, message, signature }) === true) return true;
      const key = keyObjectOf(publicKey);
      return key !== undefined && verify(null, message, key, signature);
    },
  };
}
