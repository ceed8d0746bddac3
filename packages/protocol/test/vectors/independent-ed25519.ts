/**
 * Ed25519 straight on node:crypto, sharing no code with the package, to check
 * that the signatures in the test vectors are real: a bug in our providers or
 * in the vector generator cannot vouch for itself.
 */
import { createPrivateKey, createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function hexBytes(hex: string): Buffer {
  return Buffer.from(hex, "hex");
}

export function publicKeyOfSeed(seedHex: string): string {
  const der = Buffer.concat([hexBytes("302e020100300506032b657004220420"), hexBytes(seedHex)]);
  const privateKey = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  return Buffer.from(jwk.x ?? "", "base64url").toString("hex");
}

export function verifiesOnNodeCrypto(
  publicKeyHex: string,
  messageHex: string,
  signatureHex: string,
): boolean {
  const key = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: hexBytes(publicKeyHex).toString("base64url") },
    format: "jwk",
  });
  return verify(null, hexBytes(messageHex), key, hexBytes(signatureHex));
}

/** UTF-8(context) || 0x00 || bytes, built here without the package's helper. */
export function contextMessageHex(context: string, canonicalHex: string): string {
  return Buffer.concat([
    Buffer.from(context, "utf8"),
    Buffer.from([0]),
    hexBytes(canonicalHex),
  ]).toString("hex");
}

export function readVectorFile(name: string): string {
  return readFileSync(
    fileURLToPath(new URL(`../../test-vectors/${name}.json`, import.meta.url)),
    "utf8",
  );
}
