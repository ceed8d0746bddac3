// The signed link handshake (docs/protocol.md §12.10.3), pure: what each side
// signs and how the other checks it. Both sides contribute a fresh random
// nonce and each signs a transcript naming both servers, both nonces, its
// role and its clock, so a recorded handshake cannot be replayed (the other
// side's nonce is new every time) nor reflected (the role is signed).

import {
  encodeCanonical,
  type KeyPair,
  ParleyError,
  type ServerName,
  type SignatureProvider,
  serverKeyValidAt,
  signatureContexts,
  signInContext,
  type VerifiedServerKeyDocument,
  verifyInContext,
} from "@parley/protocol";
import type { HandshakeProof } from "./link-frames.ts";

export type HandshakeRole = "initiator" | "responder";

/** What both sides know once `hello` and `accept` were exchanged. */
export interface HandshakeContext {
  readonly version: number;
  readonly initiator: ServerName;
  readonly responder: ServerName;
  readonly initiatorNonce: Uint8Array;
  readonly responderNonce: Uint8Array;
}

/** The canonical bytes a side signs: the context, its role and its proof fields. */
export function handshakeTranscript(
  context: HandshakeContext,
  role: HandshakeRole,
  fields: Omit<HandshakeProof, "signature">,
): Uint8Array {
  return encodeCanonical({
    role,
    version: context.version,
    initiator: context.initiator,
    responder: context.responder,
    initiatorNonce: context.initiatorNonce,
    responderNonce: context.responderNonce,
    timeMs: fields.timeMs,
    publicKey: fields.publicKey,
    receivedSequence: fields.receivedSequence,
  });
}

export function signHandshake(
  provider: SignatureProvider,
  keyPair: KeyPair,
  context: HandshakeContext,
  role: HandshakeRole,
  fields: { readonly timeMs: number; readonly receivedSequence: number },
): HandshakeProof {
  const unsigned = { ...fields, publicKey: keyPair.publicKey };
  const transcript = handshakeTranscript(context, role, unsigned);
  const signature = signInContext(provider, keyPair, signatureContexts.linkHandshake, transcript);
  return { ...unsigned, signature };
}

export interface ProofCheck {
  readonly provider: SignatureProvider;
  /** The signer's verified key document. */
  readonly document: VerifiedServerKeyDocument;
  readonly nowMs: number;
  readonly clockSkewMaxMs: number;
}

/**
 * Checks the other side's proof, cheapest first: its clock within the skew
 * either way (`timestamp_in_future`, `record_expired`), its key listed and
 * valid at its time (`server_key_unknown`, `server_key_not_valid`), then the
 * signature over the transcript with the signer's role (`signature_invalid`).
 */
export function verifyHandshakeProof(
  context: HandshakeContext,
  signerRole: HandshakeRole,
  proof: HandshakeProof,
  check: ProofCheck,
): void {
  if (proof.timeMs > check.nowMs + check.clockSkewMaxMs) {
    throw new ParleyError(
      "timestamp_in_future",
      `handshake signed at ${proof.timeMs}, more than ${check.clockSkewMaxMs} ms ahead of ${check.nowMs}`,
    );
  }
  if (proof.timeMs < check.nowMs - check.clockSkewMaxMs) {
    throw new ParleyError(
      "record_expired",
      `handshake signed at ${proof.timeMs}, more than ${check.clockSkewMaxMs} ms before ${check.nowMs}`,
    );
  }
  serverKeyValidAt(check.document, proof.publicKey, proof.timeMs);
  const transcript = handshakeTranscript(context, signerRole, proof);
  const valid = verifyInContext(
    check.provider,
    proof.publicKey,
    signatureContexts.linkHandshake,
    transcript,
    proof.signature,
  );
  if (!valid) throw new ParleyError("signature_invalid", "the handshake signature does not verify");
}

/** The highest version both sides speak, or `bad_structure` when they share none. */
export function chooseVersion(offered: readonly number[], spoken: readonly number[]): number {
  const common = offered.filter((version) => spoken.includes(version));
  const chosen = common[common.length - 1];
  if (chosen === undefined) {
    throw new ParleyError("bad_structure", `no common link version in ${offered.join(", ")}`);
  }
  return chosen;
}

/** Which of two authenticated links between the same servers both keep (§12.10.3). */
export function preferredLink(
  left: { readonly initiator: ServerName; readonly openedOrder: number },
  right: { readonly initiator: ServerName; readonly openedOrder: number },
): "left" | "right" {
  if (left.initiator !== right.initiator) {
    // The link dialled by the server whose name sorts first wins on both sides.
    return compareNames(left.initiator, right.initiator) < 0 ? "left" : "right";
  }
  // Two links dialled by the same server: the newer replaces a dead older one.
  return left.openedOrder > right.openedOrder ? "left" : "right";
}

/** Bytewise order of the UTF-8 names (server names are ASCII, so code units suffice). */
export function compareNames(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}
