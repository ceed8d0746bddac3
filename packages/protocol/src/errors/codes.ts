/**
 * The one error-code table for all of Parley. Every error that can cross a
 * boundary (HTTP response, WebSocket close, federation reply, log line) carries
 * one of these wire codes. Codes are stable strings: never rename or reuse one;
 * add new ones at the end of their group.
 *
 * Close codes live in the private-use range 4000–4999 (RFC 6455 §7.4.2):
 * 40xx bad data, 41xx failed verification, 44xx/45xx mirror the HTTP status of
 * the request-level codes so they are easy to remember, 46xx are MLS.
 */

/**
 * What kind of failure a code is, in the spirit of ts-mls's error classes.
 * Callers branch on the category, not on individual codes, when they only
 * need to know whose fault it was.
 */
export type ErrorCategory =
  /** Bytes that cannot be decoded as canonical Parley CBOR (or break a limit). */
  | "encoding"
  /** Decodable data from a peer that breaks a protocol rule (bad data from a peer). */
  | "invalid"
  /** A signature, validity window, sequence or key check failed. */
  | "verification"
  /** A well-formed request refused by policy or state (auth, rate, size, existence). */
  | "refused"
  /** The caller broke a function's contract: a bug in the calling code. */
  | "misuse"
  /** A bug or broken invariant inside Parley itself. */
  | "internal";

export interface ErrorCodeEntry {
  readonly category: ErrorCategory;
  /** The HTTP status a server answers with. */
  readonly httpStatus: number;
  /** The WebSocket close code (4000–4999) a server closes a socket with. */
  readonly closeCode: number;
  /** One line: what the code means, safe to show to anyone. */
  readonly meaning: string;
}

export const errorCodes = {
  // Undecodable bytes.
  bad_encoding: {
    category: "encoding",
    httpStatus: 400,
    closeCode: 4000,
    meaning: "the bytes are not canonical Parley CBOR or break a decoding limit",
  },
  payload_too_large: {
    category: "encoding",
    httpStatus: 413,
    closeCode: 4413,
    meaning: "the payload is larger than the limit for its kind",
  },

  // Bad data from a peer: decodable, but not a valid protocol object.
  bad_structure: {
    category: "invalid",
    httpStatus: 400,
    closeCode: 4001,
    meaning: "a decoded value lacks a required field, has an unknown one, or has a wrong type",
  },
  bad_server_name: {
    category: "invalid",
    httpStatus: 400,
    closeCode: 4002,
    meaning: "a server name is not a canonical host name, IP literal or port",
  },
  bad_user_id: {
    category: "invalid",
    httpStatus: 400,
    closeCode: 4003,
    meaning: "a user id is not of the form local@server with allowed characters",
  },
  bad_device_id: {
    category: "invalid",
    httpStatus: 400,
    closeCode: 4004,
    meaning: "a device id is not the base64url form of an acceptable device public key",
  },
  bad_room_id: {
    category: "invalid",
    httpStatus: 400,
    closeCode: 4005,
    meaning: "a room id is not of the form !<22 base64url characters>",
  },
  bad_content_id: {
    category: "invalid",
    httpStatus: 400,
    closeCode: 4006,
    meaning: "a content id is not of the form type:<43 base64url characters>",
  },
  bad_public_key: {
    category: "invalid",
    httpStatus: 400,
    closeCode: 4007,
    meaning: "a public key is not a canonical Ed25519 encoding or is a weak (small-order) key",
  },
  bad_federation_endpoint: {
    category: "invalid",
    httpStatus: 400,
    closeCode: 4008,
    meaning: "a federation endpoint is not a canonical https URL (http only for local names)",
  },

  // Failed verification.
  signature_invalid: {
    category: "verification",
    httpStatus: 400,
    closeCode: 4100,
    meaning: "a signature does not verify under the key and context it claims",
  },
  record_expired: {
    category: "verification",
    httpStatus: 400,
    closeCode: 4101,
    meaning: "the record's validity window ended before the verifier's current time",
  },
  record_not_yet_valid: {
    category: "verification",
    httpStatus: 400,
    closeCode: 4102,
    meaning: "the record's validity window starts after the verifier's current time",
  },
  record_replayed: {
    category: "verification",
    httpStatus: 409,
    closeCode: 4103,
    meaning: "an older or equal version of something already accepted was offered again",
  },
  device_revoked: {
    category: "verification",
    httpStatus: 403,
    closeCode: 4104,
    meaning: "the device has been revoked and can never be valid again",
  },
  server_key_unknown: {
    category: "verification",
    httpStatus: 400,
    closeCode: 4105,
    meaning: "the server key that signed is not listed in the server's key document",
  },
  server_key_not_valid: {
    category: "verification",
    httpStatus: 400,
    closeCode: 4106,
    meaning: "the server key was outside its validity window at the time of signing",
  },
  server_mismatch: {
    category: "verification",
    httpStatus: 400,
    closeCode: 4107,
    meaning: "the object names a different server than the one whose keys were used",
  },
  user_mismatch: {
    category: "verification",
    httpStatus: 409,
    closeCode: 4108,
    meaning: "the device key is already bound to a different user",
  },
  key_continuity_broken: {
    category: "verification",
    httpStatus: 400,
    closeCode: 4109,
    meaning: "a new server key document is not signed by any key the verifier already trusts",
  },
  timestamp_in_future: {
    category: "verification",
    httpStatus: 400,
    closeCode: 4110,
    meaning: "a signed timestamp is later than the verifier's clock allows",
  },
  certificate_invalid: {
    category: "verification",
    httpStatus: 400,
    closeCode: 4111,
    meaning:
      "control state is not certified by a majority of the room's sponsors at its index (missing, minority, unknown signer, or another chain hash)",
  },

  // Request-level refusals (HTTP and WebSocket APIs).
  unauthorized: {
    category: "refused",
    httpStatus: 401,
    closeCode: 4401,
    meaning: "the request carries no valid credentials",
  },
  forbidden: {
    category: "refused",
    httpStatus: 403,
    closeCode: 4403,
    meaning: "the credentials are valid but do not allow this action",
  },
  not_found: {
    category: "refused",
    httpStatus: 404,
    closeCode: 4404,
    meaning: "the thing asked for does not exist here",
  },
  conflict: {
    category: "refused",
    httpStatus: 409,
    closeCode: 4409,
    meaning: "the request conflicts with the current state; fetch it and retry",
  },
  rate_limited: {
    category: "refused",
    httpStatus: 429,
    closeCode: 4429,
    meaning: "too many requests; retry after the time given",
  },
  capacity_exceeded: {
    category: "refused",
    httpStatus: 507,
    closeCode: 4507,
    meaning: "a configured capacity limit of this server is reached",
  },
  unavailable: {
    category: "refused",
    httpStatus: 503,
    closeCode: 4503,
    meaning: "the service is temporarily unavailable; retry later",
  },

  // MLS (docs/protocol.md, chapter 13): reported by the end-to-end encryption
  // layer. Close codes 46xx.
  mls_malformed: {
    category: "encoding",
    httpStatus: 400,
    closeCode: 4600,
    meaning:
      "the bytes are not one well-formed MLS message of the expected kind within its size limit",
  },
  mls_wrong_group: {
    category: "invalid",
    httpStatus: 400,
    closeCode: 4601,
    meaning: "the MLS message belongs to another group than the room's",
  },
  mls_rule_violation: {
    category: "invalid",
    httpStatus: 403,
    closeCode: 4602,
    meaning:
      "the MLS message breaks a rule of RFC 9420 or of Parley (proposals, update paths, identities)",
  },
  mls_key_package_invalid: {
    category: "invalid",
    httpStatus: 400,
    closeCode: 4603,
    meaning: "a KeyPackage failed validation (signature, credential, cipher suite or lifetime)",
  },
  mls_authentication_failed: {
    category: "verification",
    httpStatus: 400,
    closeCode: 4604,
    meaning: "an MLS signature, tag or ciphertext did not verify",
  },
  mls_replayed: {
    category: "verification",
    httpStatus: 409,
    closeCode: 4605,
    meaning: "the message key was already used or dropped: a replay, or too far out of order",
  },
  mls_epoch_too_old: {
    category: "refused",
    httpStatus: 409,
    closeCode: 4606,
    meaning: "the message is from an epoch older than the window of past epochs kept",
  },
  mls_epoch_in_future: {
    category: "refused",
    httpStatus: 409,
    closeCode: 4607,
    meaning:
      "the message is from an epoch this member has not reached; process the missing commits first",
  },
  mls_stale_epoch: {
    category: "refused",
    httpStatus: 409,
    closeCode: 4608,
    meaning: "a commit for an epoch that is already decided; process the winner and retry",
  },
  mls_generation_too_far: {
    category: "refused",
    httpStatus: 409,
    closeCode: 4609,
    meaning: "the message is further ahead of its sender's last message than the member ratchets",
  },
  mls_not_member: {
    category: "refused",
    httpStatus: 403,
    closeCode: 4610,
    meaning: "this device is not (or no longer) a member of the group",
  },
  mls_unapplied_proposals: {
    category: "refused",
    httpStatus: 409,
    closeCode: 4611,
    meaning: "proposals await a commit; no application message can be sent until one is ordered",
  },
  mls_commit_unprocessable: {
    category: "refused",
    httpStatus: 409,
    closeCode: 4612,
    meaning: "an ordered commit cannot be processed here; rejoin by external commit",
  },
  mls_own_commit: {
    category: "misuse",
    httpStatus: 500,
    closeCode: 4613,
    meaning: "the member's own commit was given to process; settle it with commitAccepted",
  },
  mls_sealed_state_invalid: {
    category: "verification",
    httpStatus: 400,
    closeCode: 4614,
    meaning: "sealed MLS state does not open: wrong key, tampered, another scope or unknown format",
  },
  mls_internal: {
    category: "internal",
    httpStatus: 500,
    closeCode: 4615,
    meaning: "the MLS library failed in a way it reports as its own bug",
  },

  // Bugs. Their details never leave the process.
  invalid_argument: {
    category: "misuse",
    httpStatus: 500,
    closeCode: 4501,
    meaning: "a function was called outside its contract (a bug in the caller)",
  },
  internal: {
    category: "internal",
    httpStatus: 500,
    closeCode: 4500,
    meaning: "internal error",
  },
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof errorCodes;

export const errorCodeList: readonly ErrorCode[] = Object.keys(errorCodes) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(errorCodes, value);
}

export function errorCodeEntry(code: ErrorCode): ErrorCodeEntry {
  return errorCodes[code];
}
