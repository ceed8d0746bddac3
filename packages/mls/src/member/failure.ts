import { type MlsFailure, type MlsFailureCode, mlsFailure } from "../errors.ts";

/**
 * Turns whatever ts-mls threw into a typed failure. ts-mls 1.6.4 does not
 * export its error classes, so this reads their `name`s (stable, set in
 * mlsError.js) and, for the two ratchet cases callers must tell apart, the
 * message text; `failure.test.ts` pins both. Anything else thrown while
 * A ciphertext the AEAD refuses surfaces as WebCrypto's OperationError or
 * noble's "invalid tag" error: an authentication failure. Anything else
 * unexpected is reported as `mls_internal`, never rethrown.
 */
export function failureFromLibrary(thrown: unknown, doing: string): MlsFailure {
  const error = thrown instanceof Error ? thrown : undefined;
  const message = error?.message ?? String(thrown);
  return mlsFailure(codeOf(error?.name, message), `${doing}: ${message}`, thrown);
}

function codeOf(name: string | undefined, message: string): MlsFailureCode {
  if (message.includes("Desired gen in the past")) return "mls_replayed";
  if (message.includes("Desired generation too far in the future")) return "mls_generation_too_far";
  if (message.includes("epoch too old")) return "mls_epoch_too_old";
  switch (name) {
    case "CodecError":
      return "mls_malformed";
    case "CryptoVerificationError":
    case "CryptoError":
      return "mls_authentication_failed";
    case "ValidationError":
      return "mls_rule_violation";
    case "UsageError":
    case "InternalError":
    case "DependencyError":
      return "mls_internal";
    case "OperationError":
      return "mls_authentication_failed";
    default:
      return /invalid tag/i.test(message) ? "mls_authentication_failed" : "mls_internal";
  }
}

/**
 * Runs a check whose own code already turns bad input into failures, so that a
 * bug in this package or in ts-mls still comes out as a failure value, never
 * as a raw exception.
 */
export async function withLibraryFailures<T>(
  doing: string,
  check: () => Promise<T>,
): Promise<T | MlsFailure> {
  try {
    return await check();
  } catch (thrown) {
    return failureFromLibrary(thrown, doing);
  }
}
