// Schemas for the JSON fields every client API route shares. Binary fields
// are base64url without padding (the protocol's canonical text form of bytes),
// decoded with a byte bound so a huge string is refused before it is decoded.

import { ParleyError, parseDeviceId, parseRoomId } from "@parley/protocol";
import { z } from "zod";

/** Base64url text of at most `bytesMax` bytes, decoded to bytes. */
export function base64urlBytes(bytesMax: number) {
  const charactersMax = Math.ceil((bytesMax * 4) / 3);
  return z
    .string()
    .max(charactersMax, `longer than ${bytesMax} bytes`)
    .transform((text, context) => {
      // Node's decoder is lenient (padding, stray characters); encoding the
      // result again and comparing keeps the protocol's one-spelling rule,
      // natively, on the hot path of every message.
      const bytes = Buffer.from(text, "base64url");
      if (bytes.toString("base64url") !== text) {
        context.addIssue({ code: "custom", message: "not canonical base64url without padding" });
        return z.NEVER;
      }
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    });
}

export const deviceIdField = z
  .string()
  .max(64)
  .transform((text, context) => {
    try {
      return parseDeviceId(text);
    } catch {
      context.addIssue({ code: "custom", message: "not a device id" });
      return z.NEVER;
    }
  });

export const roomIdField = z
  .string()
  .max(64)
  .transform((text, context) => {
    try {
      return parseRoomId(text);
    } catch {
      context.addIssue({ code: "custom", message: "not a room id" });
      return z.NEVER;
    }
  });

/** A client-chosen id, in the same alphabet as message client ids. */
export const clientIdField = z
  .string()
  .regex(/^[A-Za-z0-9._~-]{1,64}$/, "1-64 characters of A-Z a-z 0-9 . _ ~ -");

/** Parses `value` with `schema`; a failure is `bad_structure` naming the field. */
export function parseBody<Output>(schema: z.ZodType<Output>, value: unknown, what: string): Output {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`;
  throw new ParleyError("bad_structure", `${what}${path}: ${issue?.message ?? "invalid"}`);
}

/** Base64url without padding; Node's encoder, since this runs for every delivered event. */
export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}
