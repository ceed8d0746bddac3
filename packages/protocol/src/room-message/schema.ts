import { z } from "zod";
import { byteStringSchema, signatureSchema, timestampMsSchema } from "../validation/structure.ts";
import {
  roomMessageBodyBytesMax,
  roomMessageClientIdPattern,
  roomMessageContentTypeBytesMax,
} from "./limits.ts";

const utf8 = new TextEncoder();

/** The map a device signs. Identifiers are checked for canonical form after the shape. */
export const roomMessageSchema = z.strictObject({
  version: z.literal(1),
  roomId: z.string(),
  contentType: z
    .string()
    .min(1)
    .refine((text) => utf8.encode(text).length <= roomMessageContentTypeBytesMax, {
      message: `longer than ${roomMessageContentTypeBytesMax} UTF-8 bytes`,
    }),
  body: byteStringSchema.refine((bytes) => bytes.length <= roomMessageBodyBytesMax, {
    message: `longer than ${roomMessageBodyBytesMax} bytes`,
  }),
  clientId: z.string().regex(roomMessageClientIdPattern, "1-64 characters of A-Z a-z 0-9 . _ ~ -"),
  deviceId: z.string(),
  sentAtMs: timestampMsSchema,
});

export const roomMessageEnvelopeSchema = z.strictObject({
  message: roomMessageSchema,
  signature: signatureSchema,
});

export type RoomMessageWire = z.infer<typeof roomMessageSchema>;
