import { type ErrorCode, errorCodeList, ParleyError } from "@parley/protocol";

/**
 * The MLS layer's failure codes: the `mls_` rows of the project-wide error
 * table in @parley/protocol (docs/protocol.md, chapter 7 and §13.12), with
 * their categories, HTTP statuses and close codes.
 *
 * Failures are values: processing and checking return them inside tagged
 * outcomes and never throw them. Only a caller's contract breach throws
 * (ParleyError `invalid_argument`).
 */
export type MlsFailureCode = Extract<ErrorCode, `mls_${string}`>;

export const mlsFailureCodeList: readonly MlsFailureCode[] = errorCodeList.filter(
  (code): code is MlsFailureCode => code.startsWith("mls_"),
);

/** Why something failed: a code from the table, a detail for logs, and the underlying error. */
export interface MlsFailure {
  readonly kind: "failed";
  readonly code: MlsFailureCode;
  readonly detail: string;
  readonly cause?: unknown;
}

export function mlsFailure(code: MlsFailureCode, detail: string, cause?: unknown): MlsFailure {
  return cause === undefined
    ? { kind: "failed", code, detail }
    : { kind: "failed", code, detail, cause };
}

/** The ParleyError to send when a failure must cross a boundary. */
export function mlsFailureToParleyError(failure: MlsFailure): ParleyError {
  return new ParleyError(failure.code, failure.detail, { cause: failure.cause });
}
