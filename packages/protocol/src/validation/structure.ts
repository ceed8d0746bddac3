import { z } from "zod";
import { decodeCanonical } from "../codec/decode.ts";
import { publicKeyBytes, signatureBytes } from "../crypto/signature-provider.ts";
import { ParleyError } from "../errors/parley-error.ts";
import type { DecodeLimits } from "../limits.ts";

/**
 * Edge validation: bytes from outside are decoded with limits, then checked
 * against a zod schema (the project's one schema library). Schemas check
 * shape only (fields, types, sizes); protocol rules that need their own
 * error codes (identifiers, key strength, ordering) are checked after, in code.
 *
 * Every object schema is strict: an unknown field is an error, not ignored,
 * because signed objects must mean exactly what their bytes say.
 */

/** A CBOR byte string, typed as any Uint8Array (zod's instanceof would narrow the buffer type). */
export const byteStringSchema = z.custom<Uint8Array>((value) => value instanceof Uint8Array, {
  message: "must be a byte string",
});

export function bytesOfLength(length: number) {
  return byteStringSchema.refine((bytes) => bytes.length === length, {
    message: `must be a byte string of ${length} bytes`,
  });
}

export const publicKeySchema = bytesOfLength(publicKeyBytes);
export const signatureSchema = bytesOfLength(signatureBytes);

/** Milliseconds since 1970-01-01T00:00:00Z, UTC, without leap seconds (Unix time × 1000). */
export const timestampMsSchema = z.int().nonnegative();

/** Sequence numbers and serials start at 1. */
export const sequenceSchema = z.int().min(1);

/** Checks `value` against `schema`; throws `bad_structure` naming the first offending field. */
export function parseStructure<Output>(
  schema: z.ZodType<Output>,
  value: unknown,
  what: string,
): Output {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`;
  throw new ParleyError("bad_structure", `${what}${path}: ${issue?.message ?? "invalid"}`, {
    cause: result.error,
  });
}

/** Decodes canonical CBOR within `limits`, then checks the structure. */
export function decodeStructure<Output>(
  bytes: Uint8Array,
  limits: DecodeLimits,
  schema: z.ZodType<Output>,
  what: string,
): Output {
  return parseStructure(schema, decodeCanonical(bytes, limits), what);
}

/** Throws `bad_structure` unless `condition` holds: for protocol rules on a decoded object. */
export function requireStructure(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ParleyError("bad_structure", message);
}
