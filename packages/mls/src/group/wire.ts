import {
  decodeMlsMessage,
  encodeMlsMessage,
  type GroupInfo,
  type KeyPackage,
  type MLSMessage,
  type PrivateMessage,
  type PublicMessage,
  type RatchetTree,
  type Welcome,
} from "ts-mls";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { mlsLimits } from "../limits.ts";
import { decodeRatchetTree, encodeRatchetTree } from "../ts-mls-internals.ts";

/**
 * The MLSMessage framing (RFC 9420 §6) of everything Parley sends: one
 * encoded message per frame, nothing before or after it.
 */
interface WireKinds {
  readonly mls_public_message: PublicMessage;
  readonly mls_private_message: PrivateMessage;
  readonly mls_welcome: Welcome;
  readonly mls_group_info: GroupInfo;
  readonly mls_key_package: KeyPackage;
}

export type WireKind = keyof WireKinds;

export type Decoded<Value> = { readonly kind: "decoded"; readonly value: Value } | MlsFailure;

/**
 * Decodes `bytes` as exactly one MLSMessage of wire format `expected`, within
 * `bytesMax`. The bytes are copied first: ts-mls keeps views into its input,
 * and a caller reusing its buffer must not change a decoded message. Never
 * throws; every defect is an `mls_malformed` failure.
 */
export function decodeWire<Kind extends WireKind>(
  bytes: Uint8Array,
  expected: Kind,
  bytesMax: number = mlsLimits.messageBytesMax,
): Decoded<WireKinds[Kind]> {
  const decoded = decodeMessage(bytes, bytesMax);
  if (decoded.kind === "failed") return decoded;
  const value = payloadOf(decoded.value, expected);
  if (value === undefined) {
    return mlsFailure("mls_malformed", `expected ${expected}, got ${decoded.value.wireformat}`);
  }
  return { kind: "decoded", value };
}

/** Decodes exactly one MLS 1.0 MLSMessage of any wire format; see `decodeWire`. */
export function decodeMessage(
  bytes: Uint8Array,
  bytesMax: number = mlsLimits.messageBytesMax,
): Decoded<MLSMessage> {
  if (!(bytes instanceof Uint8Array)) return mlsFailure("mls_malformed", "not a byte array");
  if (bytes.length > bytesMax) {
    return mlsFailure("mls_malformed", `${bytes.length} bytes, limit ${bytesMax}`);
  }
  const copy = Uint8Array.from(bytes);
  try {
    const decoded = decodeMlsMessage(copy, 0);
    if (decoded === undefined) return mlsFailure("mls_malformed", "not an MLSMessage");
    if (decoded[1] !== copy.length) {
      return mlsFailure("mls_malformed", "bytes after the MLSMessage");
    }
    if (decoded[0].version !== "mls10") return mlsFailure("mls_malformed", "not MLS 1.0");
    return { kind: "decoded", value: decoded[0] };
  } catch (cause) {
    return mlsFailure("mls_malformed", "not an MLSMessage", cause);
  }
}

function payloadOf<Kind extends WireKind>(
  message: MLSMessage,
  expected: Kind,
): WireKinds[Kind] | undefined {
  const payload = (() => {
    switch (message.wireformat) {
      case "mls_public_message":
        return message.publicMessage;
      case "mls_private_message":
        return message.privateMessage;
      case "mls_welcome":
        return message.welcome;
      case "mls_group_info":
        return message.groupInfo;
      case "mls_key_package":
        return message.keyPackage;
    }
  })();
  return message.wireformat === expected ? (payload as WireKinds[Kind]) : undefined;
}

export function encodePublicMessage(publicMessage: PublicMessage): Uint8Array {
  return encodeMlsMessage({ version: "mls10", wireformat: "mls_public_message", publicMessage });
}

export function encodePrivateMessage(privateMessage: PrivateMessage): Uint8Array {
  return encodeMlsMessage({ version: "mls10", wireformat: "mls_private_message", privateMessage });
}

export function encodeWelcome(welcome: Welcome): Uint8Array {
  return encodeMlsMessage({ version: "mls10", wireformat: "mls_welcome", welcome });
}

export function encodeGroupInfo(groupInfo: GroupInfo): Uint8Array {
  return encodeMlsMessage({ version: "mls10", wireformat: "mls_group_info", groupInfo });
}

export function encodeKeyPackage(keyPackage: KeyPackage): Uint8Array {
  return encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage });
}

/** A ratchet tree (RFC 9420 §12.4.3.3, the `ratchet_tree` extension's body). */
export function encodeTree(tree: RatchetTree): Uint8Array {
  return encodeRatchetTree(tree);
}

export function decodeTree(bytes: Uint8Array): Decoded<RatchetTree> {
  if (bytes.length > mlsLimits.ratchetTreeBytesMax) {
    return mlsFailure("mls_malformed", `ratchet tree of ${bytes.length} bytes`);
  }
  const tree = decodeRatchetTree(Uint8Array.from(bytes));
  if (tree === undefined) return mlsFailure("mls_malformed", "not a ratchet tree");
  return { kind: "decoded", value: tree };
}
