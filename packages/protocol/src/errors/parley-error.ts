import { type ErrorCategory, type ErrorCode, errorCodes, isErrorCode } from "./codes.ts";

export interface ParleyErrorOptions {
  /** The lower-level error or value that led to this one; kept for logs only. */
  readonly cause?: unknown;
  /** Only for `rate_limited`: how long the caller should wait before retrying. */
  readonly retryAfterMs?: number;
}

/** What may be sent to a peer or client: never a stack, never an internal detail. */
export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryAfterMs?: number;
}

/**
 * The one error type Parley code throws on purpose. `code` comes from the
 * project-wide table in codes.ts; `message` is a detail for logs and for the
 * peer that sent bad data; `cause` keeps the underlying error for logs.
 */
export class ParleyError extends Error {
  override readonly name = "ParleyError";
  readonly code: ErrorCode;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: ParleyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
  }

  get category(): ErrorCategory {
    return errorCodes[this.code].category;
  }

  get httpStatus(): number {
    return errorCodes[this.code].httpStatus;
  }

  get closeCode(): number {
    return errorCodes[this.code].closeCode;
  }

  /**
   * The form sent over the wire. Bugs (`misuse`, `internal`) are reported as a
   * bare `internal` with the table's meaning, so a 500 reveals nothing; other
   * codes keep their detail, which only describes the receiver's own input.
   */
  toWire(): WireError {
    if (this.category === "misuse" || this.category === "internal") {
      return { code: "internal", message: errorCodes.internal.meaning };
    }
    const wire = { code: this.code, message: this.message };
    return this.retryAfterMs === undefined ? wire : { ...wire, retryAfterMs: this.retryAfterMs };
  }
}

export function isParleyError(value: unknown, code?: ErrorCode): value is ParleyError {
  return value instanceof ParleyError && (code === undefined || value.code === code);
}

/** A `rate_limited` error; `retryAfterMs` becomes the HTTP Retry-After header (rounded up to seconds). */
export function rateLimited(retryAfterMs: number, message = "rate limited"): ParleyError {
  if (!Number.isSafeInteger(retryAfterMs) || retryAfterMs < 0) {
    throw new ParleyError("invalid_argument", "retryAfterMs must be a non-negative integer");
  }
  return new ParleyError("rate_limited", message, { retryAfterMs });
}

/** Turns anything thrown into a ParleyError; what is not one already becomes `internal`. */
export function toParleyError(thrown: unknown): ParleyError {
  if (thrown instanceof ParleyError) return thrown;
  return new ParleyError("internal", "unexpected error", { cause: thrown });
}

/**
 * Reads a WireError received from a peer. An unknown code (a newer peer) is
 * kept as `internal` so callers never see a code outside the table.
 */
export function fromWireError(code: unknown, message: unknown): ParleyError {
  const text = typeof message === "string" ? message : "";
  if (!isErrorCode(code)) return new ParleyError("internal", `peer sent unknown code: ${text}`);
  return new ParleyError(code, text);
}

/** Throws `invalid_argument` unless `condition` holds: for checking a caller's contract. */
export function assertArgument(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ParleyError("invalid_argument", message);
}

/**
 * Runs a check written for peer data on data from a local caller: the same
 * rule failing there is the caller's bug, so it becomes `invalid_argument`
 * (keeping the specific error as the cause).
 */
export function checkCallerInput<Result>(what: string, check: () => Result): Result {
  try {
    return check();
  } catch (thrown) {
    if (!(thrown instanceof ParleyError)) throw thrown;
    throw new ParleyError("invalid_argument", `${what}: ${thrown.message}`, { cause: thrown });
  }
}

/** Throws `internal` unless `condition` holds: for invariants of Parley's own code. */
export function assertInvariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ParleyError("internal", message);
}
