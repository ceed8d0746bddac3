// Frames a client may send on the stream, validated at the edge: UTF-8 JSON
// text, at most limits.clientFrameBytesMax bytes (a send frame, which carries
// a message, limits.clientSendFrameBytesMax), one of a few strict shapes.
// Anything else is answered by closing the socket with the table's code.

import { ParleyError } from "@parley/protocol";
import { z } from "zod";
import { clientFrameBytesMax, clientSendFrameBytesMax } from "../../limits.ts";

const position = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const clientFrameSchema = z.discriminatedUnion("type", [
  /** The first frame of every socket: browsers cannot set headers on a WebSocket. */
  z.strictObject({ type: z.literal("auth"), token: z.string().min(1).max(256) }),
  /** Everything up to `stream` (a `through` the server sent) and `queue` is processed. */
  z
    .strictObject({
      type: z.literal("ack"),
      stream: position.optional(),
      queue: position.optional(),
    })
    .refine((frame) => frame.stream !== undefined || frame.queue !== undefined, {
      message: "an ack names stream, queue or both",
    }),
  /** Application-level liveness check, for clients that cannot see WebSocket pings. */
  z.strictObject({ type: z.literal("ping") }),
  /**
   * A room message on the open socket instead of an HTTP request: the same
   * envelope as POST /rooms/{roomId}/messages, answered by a `sent` or
   * `error` frame naming `id`. Fields are checked by the message path.
   */
  z.strictObject({
    type: z.literal("send"),
    id: z.string().regex(/^[A-Za-z0-9._~-]{1,64}$/, "1-64 characters of A-Z a-z 0-9 . _ ~ -"),
    roomId: z.string().min(1).max(64),
    message: z.string().min(1).max(clientSendFrameBytesMax),
  }),
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;

/** Parses one received frame; throws a ParleyError whose close code ends the socket. */
export function parseClientFrame(data: Buffer, isBinary: boolean): ClientFrame {
  if (data.byteLength > clientSendFrameBytesMax) {
    throw new ParleyError(
      "payload_too_large",
      `send frames are at most ${clientSendFrameBytesMax} bytes`,
    );
  }
  // Only a send frame carries a message; anything else this large is refused
  // for its size, whatever else is wrong with it.
  const large = data.byteLength > clientFrameBytesMax;
  const tooLarge = () =>
    new ParleyError("payload_too_large", `frames are at most ${clientFrameBytesMax} bytes`);
  if (isBinary) throw large ? tooLarge() : new ParleyError("bad_encoding", "frames are JSON text");
  let value: unknown;
  try {
    value = JSON.parse(data.toString("utf8"));
  } catch {
    throw large ? tooLarge() : new ParleyError("bad_encoding", "a frame is not JSON");
  }
  if (large && (value as { type?: unknown } | null)?.type !== "send") throw tooLarge();
  return quickAcknowledgement(value) ?? parseWithSchema(value);
}

/**
 * The frame every receiver sends after every events frame, checked by hand:
 * under load it is most of what the server reads, and the schema below would
 * cost more than the rest of handling it. Anything else goes to the schema.
 */
function quickAcknowledgement(value: unknown): ClientFrame | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const keys = Object.keys(value);
  const frame = value as { type?: unknown; stream?: unknown };
  if (keys.length !== 2 || frame.type !== "ack" || !("stream" in value)) return undefined;
  const stream = frame.stream;
  if (typeof stream !== "number" || !Number.isSafeInteger(stream) || stream < 0) return undefined;
  return { type: "ack", stream };
}

function parseWithSchema(value: unknown): ClientFrame {
  const result = clientFrameSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path =
      issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`;
    throw new ParleyError("bad_structure", `bad frame${path}: ${issue?.message ?? "invalid"}`);
  }
  return result.data;
}
