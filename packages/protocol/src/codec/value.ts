import { ParleyError } from "../errors/parley-error.ts";
import { encodeDepthMax } from "../limits.ts";

/**
 * The values Parley puts on the wire. Deliberately small: no floats (their
 * encodings are ambiguous), no bigints (every count and time fits in 53 bits),
 * no undefined, no tags, and maps keyed by text only.
 */
export type CborValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | readonly CborValue[]
  | CborMap;

export interface CborMap {
  readonly [key: string]: CborValue;
}

/** A lone UTF-16 surrogate; with the `u` flag, a well-formed pair never matches. */
const loneSurrogate = /[\uD800-\uDFFF]/u;

export function isWellFormedText(text: string): boolean {
  return !loneSurrogate.test(text);
}

/**
 * Checks that `value` is inside the value model, so encoding it is lossless.
 * Throws `invalid_argument`: a value outside the model is a bug in the caller.
 */
export function assertCborValue(value: unknown): asserts value is CborValue {
  checkValue(value, 0, "value");
}

function checkValue(value: unknown, depth: number, path: string): void {
  if (value === null || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) fail(path, `${value} is not a safe integer`);
    return;
  }
  if (typeof value === "string") {
    if (!isWellFormedText(value)) fail(path, "text has a lone surrogate (not well-formed UTF-16)");
    return;
  }
  if (value instanceof Uint8Array) return;
  if (typeof value !== "object") fail(path, `a ${typeof value} has no encoding`);
  if (depth >= encodeDepthMax) fail(path, `nested deeper than ${encodeDepthMax} (or cyclic)`);
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) checkValue(item, depth + 1, `${path}[${index}]`);
    return;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    fail(path, "only plain objects encode as maps");
  }
  for (const [key, item] of Object.entries(value)) {
    if (!isWellFormedText(key)) fail(path, "a map key has a lone surrogate");
    checkValue(item, depth + 1, `${path}.${key}`);
  }
}

function fail(path: string, reason: string): never {
  throw new ParleyError("invalid_argument", `cannot encode ${path}: ${reason}`);
}
