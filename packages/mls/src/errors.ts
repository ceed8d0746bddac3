import { type ErrorCategory, type ErrorCode, ParleyError } from "@parley/protocol";

/**
 * The MLS layer's failure codes. They are proposed additions to the
 * project-wide table in @parley/protocol (errors/codes.ts), which another
 * engineer owns; until they are merged there, each names the existing code
 * (`fallback`) used when a failure has to cross a boundary as a ParleyError.
 * The proposed close codes use the free 46xx range.
 *
 * Failures are values: processing and checking return them inside tagged
 * outcomes and never throw them. Only a caller's contract breach throws
 * (ParleyError `invalid_argument`).
 */
export interface MlsFailureCodeEntry {
  readonly category: ErrorCategory;
  readonly fallback: ErrorCode;
  readonly httpStatus: number;
  readonly closeCode: number;
  readonly meaning: string;
}

export const mlsFailureCodes = {
  mls_malformed: {
    category: "encoding",
    fallback: "bad_encoding",
    httpStatus: 400,
    closeCode: 4600,
    meaning:
      "the bytes are not one well-formed MLS message of the expected kind within its size limit",
  },
  mls_wrong_group: {
    category: "invalid",
    fallback: "bad_structure",
    httpStatus: 400,
    closeCode: 4601,
    meaning: "the MLS message belongs to another group than the room's",
  },
  mls_rule_violation: {
    category: "invalid",
    fallback: "forbidden",
    httpStatus: 403,
    closeCode: 4602,
    meaning:
      "the MLS message breaks a rule of RFC 9420 or of Parley (proposals, update paths, identities)",
  },
  mls_key_package_invalid: {
    category: "invalid",
    fallback: "bad_structure",
    httpStatus: 400,
    closeCode: 4603,
    meaning: "a KeyPackage failed validation (signature, credential, cipher suite or lifetime)",
  },
  mls_authentication_failed: {
    category: "verification",
    fallback: "signature_invalid",
    httpStatus: 400,
    closeCode: 4604,
    meaning: "an MLS signature, tag or ciphertext did not verify",
  },
  mls_replayed: {
    category: "verification",
    fallback: "record_replayed",
    httpStatus: 409,
    closeCode: 4605,
    meaning: "the message key was already used or dropped: a replay, or too far out of order",
  },
  mls_epoch_too_old: {
    category: "refused",
    fallback: "conflict",
    httpStatus: 409,
    closeCode: 4606,
    meaning: "the message is from an epoch older than the window of past epochs kept",
  },
  mls_epoch_in_future: {
    category: "refused",
    fallback: "conflict",
    httpStatus: 409,
    closeCode: 4607,
    meaning:
      "the message is from an epoch this member has not reached; process the missing commits first",
  },
  mls_stale_epoch: {
    category: "refused",
    fallback: "conflict",
    httpStatus: 409,
    closeCode: 4608,
    meaning: "a commit for an epoch that is already decided; process the winner and retry",
  },
  mls_generation_too_far: {
    category: "refused",
    fallback: "conflict",
    httpStatus: 409,
    closeCode: 4609,
    meaning: "the message is further ahead of its sender's last message than the member ratchets",
  },
  mls_not_member: {
    category: "refused",
    fallback: "forbidden",
    httpStatus: 403,
    closeCode: 4610,
    meaning: "this device is not (or no longer) a member of the group",
  },
  mls_unapplied_proposals: {
    category: "refused",
    fallback: "conflict",
    httpStatus: 409,
    closeCode: 4611,
    meaning: "proposals await a commit; no application message can be sent until one is ordered",
  },
  mls_commit_unprocessable: {
    category: "refused",
    fallback: "conflict",
    httpStatus: 409,
    closeCode: 4612,
    meaning: "an ordered commit cannot be processed here; rejoin by external commit",
  },
  mls_own_commit: {
    category: "misuse",
    fallback: "invalid_argument",
    httpStatus: 500,
    closeCode: 4613,
    meaning: "the member's own commit was given to process; settle it with commitAccepted",
  },
  mls_sealed_state_invalid: {
    category: "verification",
    fallback: "signature_invalid",
    httpStatus: 400,
    closeCode: 4614,
    meaning: "sealed MLS state does not open: wrong key, tampered, another scope or unknown format",
  },
  mls_internal: {
    category: "internal",
    fallback: "internal",
    httpStatus: 500,
    closeCode: 4615,
    meaning: "the MLS library failed in a way it reports as its own bug",
  },
} as const satisfies Record<string, MlsFailureCodeEntry>;

export type MlsFailureCode = keyof typeof mlsFailureCodes;

export const mlsFailureCodeList: readonly MlsFailureCode[] = Object.keys(
  mlsFailureCodes,
) as MlsFailureCode[];

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

/**
 * The ParleyError to send when a failure must cross a boundary. The message
 * starts with the MLS code so a peer can tell the cases apart until the codes
 * are in the project-wide table.
 */
export function mlsFailureToParleyError(failure: MlsFailure): ParleyError {
  const { fallback } = mlsFailureCodes[failure.code];
  return new ParleyError(fallback, `${failure.code}: ${failure.detail}`, { cause: failure.cause });
}
