import { decode } from "cborg";
import { ParleyError } from "../errors/parley-error.ts";
import { type DecodeLimits, decodeDepthHardMax, defaultDecodeLimits } from "../limits.ts";
import { encodeChecked } from "./encode.ts";
import { LimitedTokenizer } from "./limited-tokenizer.ts";
import type { CborValue } from "./value.ts";

/**
 * Decodes one canonical CBOR item that fills `bytes` exactly.
 *
 * Accepts only the value model (null, booleans, safe integers, well-formed
 * text, byte strings, arrays, text-keyed maps) in RFC 8949 §4.2.1 core
 * deterministic form, within `limits`. Everything else is refused with a
 * ParleyError: `payload_too_large` when the input is longer than
 * `limits.totalBytesMax`, `bad_encoding` for any other defect. No other
 * exception escapes, and the work done is linear in the input length.
 *
 * Canonical form is checked twice: cborg's strict mode refuses non-shortest
 * integers and lengths as it reads, and the decoded value is re-encoded and
 * compared byte for byte, which also catches unsorted map keys.
 */
export function decodeCanonical(
  bytes: Uint8Array,
  limits: DecodeLimits = defaultDecodeLimits,
): CborValue {
  assertUsableLimits(limits);
  if (!(bytes instanceof Uint8Array)) {
    throw new ParleyError("invalid_argument", "decodeCanonical takes a Uint8Array");
  }
  if (bytes.length > limits.totalBytesMax) {
    throw new ParleyError(
      "payload_too_large",
      `${bytes.length} bytes, limit ${limits.totalBytesMax}`,
    );
  }
  // A plain view, so byte strings decode as plain Uint8Array copies even when
  // the input is a Node Buffer (whose slices would be Buffers).
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  const value = decodeWithinLimits(plain, limits);
  assertSameBytes(plain, encodeChecked(value));
  return value;
}

function decodeWithinLimits(bytes: Uint8Array, limits: DecodeLimits): CborValue {
  try {
    return decode(bytes, {
      strict: true,
      allowIndefinite: false,
      allowUndefined: false,
      allowNaN: false,
      allowInfinity: false,
      allowBigInt: false,
      rejectDuplicateMapKeys: true,
      useMaps: false,
      tokenizer: new LimitedTokenizer(bytes, limits),
    }) as CborValue;
  } catch (thrown) {
    if (thrown instanceof ParleyError) throw thrown;
    const reason = thrown instanceof Error ? thrown.message : String(thrown);
    throw new ParleyError("bad_encoding", reason.replace(/^CBOR decode error: /, ""), {
      cause: thrown,
    });
  }
}

function assertSameBytes(received: Uint8Array, canonical: Uint8Array): void {
  const length = Math.min(received.length, canonical.length);
  for (let offset = 0; offset < length; offset += 1) {
    if (received[offset] !== canonical[offset]) {
      throw new ParleyError("bad_encoding", `not in canonical form (differs at byte ${offset})`);
    }
  }
  if (received.length !== canonical.length) {
    throw new ParleyError("bad_encoding", "not in canonical form (length differs)");
  }
}

function assertUsableLimits(limits: DecodeLimits): void {
  const { totalBytesMax, depthMax, containerItemsMax, stringBytesMax } = limits;
  const counts = [totalBytesMax, depthMax, containerItemsMax, stringBytesMax];
  if (!counts.every((count) => Number.isSafeInteger(count) && count >= 0)) {
    throw new ParleyError("invalid_argument", "decode limits must be non-negative integers");
  }
  if (depthMax > decodeDepthHardMax) {
    throw new ParleyError(
      "invalid_argument",
      `depthMax above the hard maximum ${decodeDepthHardMax}`,
    );
  }
}
