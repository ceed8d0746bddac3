import { decodeHex, encodeHex } from "../../src/codec/bytes.ts";
import { encodeCanonical } from "../../src/codec/encode.ts";
import {
  type SignatureContext,
  signatureContexts,
  signedMessage,
  signInContext,
} from "../../src/crypto/contexts.ts";
import type { SignatureProvider } from "../../src/crypto/signature-provider.ts";
import { keyPairOf, seedOf } from "../fixtures.ts";
import { withNonCanonicalS, withSmallOrderComponentInR } from "../signature-provider-compliance.ts";

export interface SignatureVector {
  readonly name: string;
  /** The label the seed was derived from: seed = SHA-256("parley test seed: " + label). */
  readonly seedLabel: string;
  readonly seed: string;
  readonly publicKey: string;
  readonly context: SignatureContext;
  readonly canonicalHex: string;
  /** UTF-8(context) || 0x00 || canonical bytes: what Ed25519 signs. */
  readonly signedMessageHex: string;
  readonly signature: string;
  readonly valid: boolean;
  readonly why: string;
}

export function signatureVectors(provider: SignatureProvider) {
  const label = "signature vectors";
  const keyPair = keyPairOf(provider, label);
  const canonical = encodeCanonical({ hello: "parley", n: 1 });
  const base = {
    seedLabel: label,
    seed: encodeHex(seedOf(label)),
    publicKey: encodeHex(keyPair.publicKey),
    canonicalHex: encodeHex(canonical),
  };
  const vector = (
    name: string,
    context: SignatureContext,
    signature: Uint8Array,
    valid: boolean,
    why: string,
    publicKey = base.publicKey,
  ): SignatureVector => ({
    name,
    ...base,
    publicKey,
    context,
    signedMessageHex: encodeHex(signedMessage(context, canonical)),
    signature: encodeHex(signature),
    valid,
    why,
  });
  const signedIn = (context: SignatureContext) =>
    signInContext(provider, keyPair, context, canonical);
  const trivial = new Uint8Array(64);
  trivial[0] = 1;
  return {
    description:
      "Ed25519 signatures with domain separation (docs/protocol.md §4). For each vector, verifying `signature` over UTF-8(context) || 0x00 || canonicalHex under publicKey must give `valid`, after Parley's public key rules.",
    contexts: signatureContexts,
    vectors: [
      ...Object.values(signatureContexts).map((context) =>
        vector(`signed in ${context}`, context, signedIn(context), true, "a genuine signature"),
      ),
      vector(
        "a device-record signature presented as a revocation",
        signatureContexts.deviceRevocation,
        signedIn(signatureContexts.deviceRecord),
        false,
        "the context is part of the signed bytes",
      ),
      vector(
        "S replaced by S + L",
        signatureContexts.deviceRecord,
        withNonCanonicalS(signedIn(signatureContexts.deviceRecord)),
        false,
        "S must be below the group order L (RFC 8032 §5.1.7)",
      ),
      vector(
        "R with a small-order component",
        signatureContexts.deviceRecord,
        withSmallOrderComponentInR(
          seedOf(label),
          signedMessage(signatureContexts.deviceRecord, canonical),
        ),
        false,
        "Parley verifies [S]B = R + [k]A without the cofactor; a cofactored verifier would accept this",
      ),
      vector(
        "identity point as public key with the trivial signature",
        signatureContexts.deviceRecord,
        trivial,
        false,
        "small-order keys are refused; plain cofactorless verification (OpenSSL) would accept this for any message",
        "0100000000000000000000000000000000000000000000000000000000000000",
      ),
      vector(
        "public key with y = p (non-canonical encoding of y = 0)",
        signatureContexts.deviceRecord,
        signedIn(signatureContexts.deviceRecord),
        false,
        "public keys must encode y below p = 2^255 - 19",
        encodeHex(decodeHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")),
      ),
    ],
  };
}
