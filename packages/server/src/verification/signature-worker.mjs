// One thread of the signature verifier pool (signature-pool.ts). Plain
// JavaScript on purpose: a worker thread does not inherit the TypeScript
// loader, and this file needs nothing but node:crypto.
//
// It receives batches {id, items: [{publicKey, message, signature}]} and
// answers {id, valid: Uint8Array} with 1 for each signature that verifies
// (Ed25519 through OpenSSL, as @parley/protocol/node does) and 0 otherwise.
// Public keys are kept imported: importing costs about as much as verifying.
import { createPublicKey, verify } from "node:crypto";
import { parentPort } from "node:worker_threads";

const cachedKeysMax = 10_000;
const keys = new Map();

function keyOf(publicKey) {
  const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString(
    "base64url",
  );
  const cached = keys.get(x);
  if (cached !== undefined) return cached;
  let key;
  try {
    key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  } catch {
    return undefined;
  }
  if (keys.size >= cachedKeysMax) keys.delete(keys.keys().next().value);
  keys.set(x, key);
  return key;
}

function verifies(item) {
  if (item.publicKey.byteLength !== 32 || item.signature.byteLength !== 64) return false;
  const key = keyOf(item.publicKey);
  if (key === undefined) return false;
  try {
    return verify(null, item.message, key, item.signature);
  } catch {
    return false;
  }
}

parentPort?.on("message", (batch) => {
  const valid = new Uint8Array(batch.items.length);
  batch.items.forEach((item, index) => {
    valid[index] = verifies(item) ? 1 : 0;
  });
  parentPort?.postMessage({ id: batch.id, valid });
});
