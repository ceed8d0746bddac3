// The SDK's errors. Everything it throws on purpose is a ParleyError with a
// code from the one table (docs/protocol.md ch. 7), so callers switch on
// `error.code` whatever went wrong; the two subclasses say where it came from.

import { type ErrorCode, isErrorCode, ParleyError } from "@parley/protocol";

/**
 * The homeserver answered with an error: its code, message and HTTP status,
 * plus `roomCode` when the room's rules refused (docs/protocol.md §10.5) and
 * `retryAfterMs` for `rate_limited` and a saturated `unavailable`.
 */
export class ServerError extends ParleyError {
  /** The HTTP status the server answered with (or the stream close code). */
  readonly status: number;
  /** The room state machine's own refusal code, e.g. `not_member`, when a room rule refused. */
  readonly roomCode: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    details: { status: number; roomCode?: string | undefined; retryAfterMs?: number | undefined },
  ) {
    super(
      code,
      message,
      details.retryAfterMs === undefined ? {} : { retryAfterMs: details.retryAfterMs },
    );
    this.status = details.status;
    this.roomCode = details.roomCode;
  }

  /** Reads an error body `{code, message, roomCode?, retryAfterMs?}`; an unknown code becomes `internal`. */
  static fromBody(status: number, body: unknown): ServerError {
    const fields: {
      readonly code?: unknown;
      readonly message?: unknown;
      readonly roomCode?: unknown;
      readonly retryAfterMs?: unknown;
    } = typeof body === "object" && body !== null ? body : {};
    const code = fields.code;
    const message = typeof fields.message === "string" ? fields.message : `HTTP ${status}`;
    const roomCode = typeof fields.roomCode === "string" ? fields.roomCode : undefined;
    const retryAfterMs = typeof fields.retryAfterMs === "number" ? fields.retryAfterMs : undefined;
    return new ServerError(isErrorCode(code) ? code : "internal", message, {
      status,
      roomCode,
      retryAfterMs,
    });
  }
}

/**
 * No answer came: the connection failed, was cut, or timed out. The request
 * may or may not have been applied, so only idempotent requests (every one
 * this SDK retries by itself) may be sent again. Its code is `unavailable`.
 */
export class NetworkError extends ParleyError {
  constructor(message: string, cause: unknown) {
    super("unavailable", message, { cause });
  }
}

/**
 * Whether trying the same request again later may succeed: no answer, the
 * server was saturated or shutting down, or a rate limit. Refusals by rule
 * (forbidden, conflict, bad input) fail the same way again.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  return (
    error instanceof ParleyError && (error.code === "unavailable" || error.code === "rate_limited")
  );
}

/** `error` itself when it is a ParleyError, else an `internal` one saying what failed, with it as cause. */
export function asParleyError(error: unknown, whatFailed: string): ParleyError {
  return error instanceof ParleyError
    ? error
    : new ParleyError("internal", whatFailed, { cause: error });
}
