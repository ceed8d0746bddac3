// The frames of a server-to-server link (docs/protocol.md §12.10.4). Every
// WebSocket message is one binary frame: a kind byte, then the body. Handshake
// and error bodies are canonical CBOR maps (they are small and some are
// signed); data frames carry a federation frame's bytes untouched behind a
// fixed header, so a 65 MiB snapshot is never copied through a CBOR codec.

import {
  type CborMap,
  type CborValue,
  decodeCanonical,
  type ErrorCode,
  encodeCanonical,
  isErrorCode,
  ParleyError,
} from "@parley/protocol";

export const linkFrameKinds = {
  hello: 0x01,
  accept: 0x02,
  confirm: 0x03,
  ready: 0x04,
  durable: 0x10,
  bestEffort: 0x11,
  acknowledge: 0x12,
  error: 0x7f,
} as const;

/** The link protocol versions this implementation speaks, ascending. */
export const linkVersions: readonly number[] = [1];

export const nonceBytes = 32;
const sequenceBytes = 8;
const publicKeyLength = 32;
const signatureLength = 64;
const errorMessageCharactersMax = 512;

export interface HelloFrame {
  readonly kind: "hello";
  readonly versions: readonly number[];
  readonly initiator: string;
  readonly responder: string;
  readonly initiatorNonce: Uint8Array;
}

/** The signed part of `accept` and `confirm`: what the signer vouches for besides the transcript. */
export interface HandshakeProof {
  readonly timeMs: number;
  readonly publicKey: Uint8Array;
  readonly receivedSequence: number;
  readonly signature: Uint8Array;
}

export interface AcceptFrame extends HandshakeProof {
  readonly kind: "accept";
  readonly version: number;
  readonly responderNonce: Uint8Array;
}

export interface ConfirmFrame extends HandshakeProof {
  readonly kind: "confirm";
}

export type LinkFrame =
  | HelloFrame
  | AcceptFrame
  | ConfirmFrame
  | { readonly kind: "ready" }
  | { readonly kind: "durable"; readonly sequence: number; readonly payload: Uint8Array }
  | { readonly kind: "best-effort"; readonly payload: Uint8Array }
  | { readonly kind: "acknowledge"; readonly sequence: number }
  | { readonly kind: "error"; readonly code: ErrorCode; readonly message: string };

export interface LinkFrameLimits {
  readonly payloadBytesMax: number;
  readonly handshakeFrameBytesMax: number;
}

function withKind(kind: number, body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(1 + body.byteLength);
  frame[0] = kind;
  frame.set(body, 1);
  return frame;
}

function withSequence(kind: number, sequence: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(1 + sequenceBytes + payload.byteLength);
  frame[0] = kind;
  new DataView(frame.buffer).setBigUint64(1, BigInt(sequence));
  frame.set(payload, 1 + sequenceBytes);
  return frame;
}

function proofFields(proof: HandshakeProof): CborMap {
  return {
    timeMs: proof.timeMs,
    publicKey: proof.publicKey,
    receivedSequence: proof.receivedSequence,
    signature: proof.signature,
  };
}

export function encodeLinkFrame(frame: LinkFrame): Uint8Array {
  switch (frame.kind) {
    case "hello":
      return withKind(
        linkFrameKinds.hello,
        encodeCanonical({
          versions: [...frame.versions],
          initiator: frame.initiator,
          responder: frame.responder,
          initiatorNonce: frame.initiatorNonce,
        }),
      );
    case "accept":
      return withKind(
        linkFrameKinds.accept,
        encodeCanonical({
          version: frame.version,
          responderNonce: frame.responderNonce,
          ...proofFields(frame),
        }),
      );
    case "confirm":
      return withKind(linkFrameKinds.confirm, encodeCanonical(proofFields(frame)));
    case "ready":
      return Uint8Array.of(linkFrameKinds.ready);
    case "durable":
      return withSequence(linkFrameKinds.durable, frame.sequence, frame.payload);
    case "best-effort":
      return withKind(linkFrameKinds.bestEffort, frame.payload);
    case "acknowledge":
      return withSequence(linkFrameKinds.acknowledge, frame.sequence, new Uint8Array(0));
    case "error":
      return withKind(
        linkFrameKinds.error,
        encodeCanonical({
          code: frame.code,
          message: frame.message.slice(0, errorMessageCharactersMax),
        }),
      );
  }
}

function badStructure(message: string): ParleyError {
  return new ParleyError("bad_structure", message);
}

function readSequence(frame: Uint8Array): number {
  const value = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getBigUint64(1);
  if (value < 1n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw badStructure("a queue sequence is 1 to 2^53-1");
  }
  return Number(value);
}

/** Decodes a CBOR body that must be a map with exactly `fields`. */
function cborBody(
  frame: Uint8Array,
  limits: LinkFrameLimits,
  fields: readonly string[],
): Record<string, CborValue> {
  if (frame.byteLength > limits.handshakeFrameBytesMax) {
    throw new ParleyError(
      "payload_too_large",
      `a handshake frame is at most ${limits.handshakeFrameBytesMax} bytes`,
    );
  }
  const value = decodeCanonical(frame.subarray(1), {
    totalBytesMax: limits.handshakeFrameBytesMax,
    depthMax: 2,
    containerItemsMax: 16,
    stringBytesMax: 1024,
  });
  if (
    value === null ||
    typeof value !== "object" ||
    Array.isArray(value) ||
    value instanceof Uint8Array
  ) {
    throw badStructure("a link frame body is a map");
  }
  const map = value as Record<string, CborValue>;
  const keys = Object.keys(map);
  if (keys.length !== fields.length || !fields.every((field) => field in map)) {
    throw badStructure(`a link frame body has exactly the fields ${fields.join(", ")}`);
  }
  return map;
}

function uint(map: Record<string, CborValue>, field: string): number {
  const value = map[field];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw badStructure(`${field} is an unsigned integer`);
  }
  return value;
}

function text(map: Record<string, CborValue>, field: string, charactersMax: number): string {
  const value = map[field];
  if (typeof value !== "string" || value.length > charactersMax) {
    throw badStructure(`${field} is text of at most ${charactersMax} characters`);
  }
  return value;
}

function bytesOf(map: Record<string, CborValue>, field: string, length: number): Uint8Array {
  const value = map[field];
  if (!(value instanceof Uint8Array) || value.byteLength !== length) {
    throw badStructure(`${field} is ${length} bytes`);
  }
  return value;
}

function proof(map: Record<string, CborValue>): HandshakeProof {
  return {
    timeMs: uint(map, "timeMs"),
    publicKey: bytesOf(map, "publicKey", publicKeyLength),
    receivedSequence: uint(map, "receivedSequence"),
    signature: bytesOf(map, "signature", signatureLength),
  };
}

function decodeHello(frame: Uint8Array, limits: LinkFrameLimits): HelloFrame {
  const map = cborBody(frame, limits, ["versions", "initiator", "responder", "initiatorNonce"]);
  const versions = map["versions"];
  if (
    !Array.isArray(versions) ||
    versions.length < 1 ||
    versions.length > 8 ||
    !versions.every((version, index) => {
      const previous = index === 0 ? 0 : versions[index - 1];
      return (
        Number.isSafeInteger(version) &&
        typeof previous === "number" &&
        (version as number) > previous
      );
    })
  ) {
    throw badStructure("versions is 1 to 8 ascending positive integers");
  }
  return {
    kind: "hello",
    versions: versions as number[],
    initiator: text(map, "initiator", 300),
    responder: text(map, "responder", 300),
    initiatorNonce: bytesOf(map, "initiatorNonce", nonceBytes),
  };
}

/**
 * Decodes one frame with its limits. Throws `payload_too_large`,
 * `bad_encoding` or `bad_structure`; nothing else escapes.
 */
export function decodeLinkFrame(frame: Uint8Array, limits: LinkFrameLimits): LinkFrame {
  if (frame.byteLength === 0) throw badStructure("an empty link frame");
  const kind = frame[0];
  switch (kind) {
    case linkFrameKinds.hello:
      return decodeHello(frame, limits);
    case linkFrameKinds.accept: {
      const fields = [
        "version",
        "responderNonce",
        "timeMs",
        "publicKey",
        "receivedSequence",
        "signature",
      ];
      const map = cborBody(frame, limits, fields);
      return {
        kind: "accept",
        version: uint(map, "version"),
        responderNonce: bytesOf(map, "responderNonce", nonceBytes),
        ...proof(map),
      };
    }
    case linkFrameKinds.confirm: {
      const map = cborBody(frame, limits, ["timeMs", "publicKey", "receivedSequence", "signature"]);
      return { kind: "confirm", ...proof(map) };
    }
    case linkFrameKinds.ready:
      if (frame.byteLength !== 1) throw badStructure("ready has no body");
      return { kind: "ready" };
    case linkFrameKinds.durable:
      if (frame.byteLength > 1 + sequenceBytes + limits.payloadBytesMax) {
        throw new ParleyError(
          "payload_too_large",
          `a payload is at most ${limits.payloadBytesMax} bytes`,
        );
      }
      if (frame.byteLength <= 1 + sequenceBytes)
        throw badStructure("a durable frame carries a payload");
      return {
        kind: "durable",
        sequence: readSequence(frame),
        payload: frame.subarray(1 + sequenceBytes),
      };
    case linkFrameKinds.bestEffort:
      if (frame.byteLength > 1 + limits.payloadBytesMax) {
        throw new ParleyError(
          "payload_too_large",
          `a payload is at most ${limits.payloadBytesMax} bytes`,
        );
      }
      if (frame.byteLength === 1) throw badStructure("a best-effort frame carries a payload");
      return { kind: "best-effort", payload: frame.subarray(1) };
    case linkFrameKinds.acknowledge:
      if (frame.byteLength !== 1 + sequenceBytes)
        throw badStructure("an acknowledgement is 9 bytes");
      return { kind: "acknowledge", sequence: readSequence(frame) };
    case linkFrameKinds.error: {
      const map = cborBody(frame, limits, ["code", "message"]);
      const code = map["code"];
      return {
        kind: "error",
        // A code this implementation does not know is read as `internal` (§7).
        code: isErrorCode(code) ? code : "internal",
        message: text(map, "message", errorMessageCharactersMax),
      };
    }
    default:
      throw badStructure(`unknown link frame kind ${kind}`);
  }
}
