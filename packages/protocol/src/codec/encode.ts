import { encode, rfc8949EncodeOptions } from "cborg";
import { ParleyError } from "../errors/parley-error.ts";
import { assertCborValue, type CborValue } from "./value.ts";

/**
 * Encodes `value` in RFC 8949 §4.2.1 core deterministic form: shortest
 * integer and length forms, definite lengths only, map keys sorted by the
 * bytewise order of their encodings. Equal values always give equal bytes,
 * which is what makes signatures and content ids over them meaningful.
 *
 * Throws `invalid_argument` for a value outside the model (see value.ts).
 */
export function encodeCanonical(value: CborValue): Uint8Array {
  assertCborValue(value);
  return encodeChecked(value);
}

/**
 * Encodes a value already known to be inside the model (it came from the
 * decoder, or was checked before). Skips the model walk; used on hot paths.
 */
export function encodeChecked(value: CborValue): Uint8Array {
  try {
    // In Node, cborg hands back a Buffer that may be a view into Node's shared
    // allocation pool; copying gives every caller a plain Uint8Array that owns
    // its memory, the same type as in browsers.
    return new Uint8Array(encode(value, rfc8949EncodeOptions));
  } catch (cause) {
    throw new ParleyError("internal", "the CBOR encoder refused a checked value", { cause });
  }
}
