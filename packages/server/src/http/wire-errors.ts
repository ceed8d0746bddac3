// Error mapping for the client API: everything thrown in a route becomes one
// JSON body `{code, message, retryAfterMs?}` with the HTTP status of the
// project-wide error table. A ParleyError keeps its code; Fastify's own
// refusals (body too large, unparsable JSON, wrong content type) get the
// matching table code; anything else (a StorageError, a bug) is `internal`,
// logged with its cause and answered with nothing but the table's meaning.

import { type ErrorCode, errorCodeEntry, isParleyError, type WireError } from "@parley/protocol";
import type { RoomRejectionCode } from "@parley/room";
import { StaleEpochError } from "../rooms/encrypted-rooms.ts";
import { RoomRefusal } from "../rooms/room-refusals.ts";

/** What a route answers for one error: the status and the body. */
export interface ErrorReply {
  readonly status: number;
  readonly body: WireError & {
    readonly roomCode?: RoomRejectionCode;
    /** A stale commit: the room's current epoch and where it started (§10.13). */
    readonly epoch?: number;
    readonly controlIndex?: number;
  };
  /** Whether the error is a server fault worth a log line with its cause. */
  readonly isServerFault: boolean;
}

/** Fastify's error codes for requests it refuses before a handler runs. */
const fastifyCodes: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_JSON_BODY: "bad_encoding",
  FST_ERR_CTP_EMPTY_JSON_BODY: "bad_encoding",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "bad_encoding",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "bad_encoding",
  FST_ERR_CTP_INVALID_TYPE: "bad_encoding",
  FST_ERR_VALIDATION: "bad_structure",
};

/** The error's table code if Fastify refused the request itself. */
function fastifyCode(error: unknown): ErrorCode | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = "code" in error ? (error as { code: unknown }).code : undefined;
  if (typeof code === "string" && Object.hasOwn(fastifyCodes, code)) return fastifyCodes[code];
  // Body parsing failures (JSON syntax errors) carry only a 4xx status.
  const status = "statusCode" in error ? (error as { statusCode: unknown }).statusCode : undefined;
  if (status === 413) return "payload_too_large";
  if (typeof status === "number" && status >= 400 && status < 500) return "bad_encoding";
  return undefined;
}

export function errorReply(error: unknown): ErrorReply {
  if (isParleyError(error)) {
    const wire = error.toWire();
    const status = errorCodeEntry(wire.code).httpStatus;
    const body =
      error instanceof RoomRefusal
        ? { ...wire, roomCode: error.roomCode }
        : error instanceof StaleEpochError
          ? { ...wire, epoch: error.epoch, controlIndex: error.controlIndex }
          : wire;
    return { status, body, isServerFault: status >= 500 };
  }
  const code = fastifyCode(error);
  if (code !== undefined) {
    const message =
      code === "payload_too_large"
        ? "the request body is too large"
        : "the request body is not valid JSON";
    return {
      status: errorCodeEntry(code).httpStatus,
      body: { code, message },
      isServerFault: false,
    };
  }
  return {
    status: errorCodeEntry("internal").httpStatus,
    body: { code: "internal", message: errorCodeEntry("internal").meaning },
    isServerFault: true,
  };
}

/** Seconds for the Retry-After header: rounded up, at least 1. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}
