import { createApplicationMessage } from "ts-mls";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { encodePrivateMessage } from "../group/wire.ts";
import { mlsLimits } from "../limits.ts";
import { failureFromLibrary } from "./failure.ts";
import { isActive, type MlsMember, withState } from "./member.ts";

export type EncryptOutcome =
  | { readonly kind: "encrypted"; readonly member: MlsMember; readonly message: Uint8Array }
  | MlsFailure;

/**
 * Encrypts an application message for the group's current epoch
 * (PrivateMessage, RFC 9420 §6.3). `authenticatedData` travels in the clear
 * but is authenticated: put ids there (a client message id), never content.
 * Keep the plaintext you sent: your own messages do not decrypt for you (the
 * key is used once).
 */
export async function encryptMessage(
  member: MlsMember,
  plaintext: Uint8Array,
  options: { readonly authenticatedData?: Uint8Array } = {},
): Promise<EncryptOutcome> {
  if (!isActive(member)) {
    return mlsFailure("mls_not_member", "this device was removed from the group");
  }
  const authenticatedData = options.authenticatedData ?? new Uint8Array();
  if (plaintext.length > mlsLimits.plaintextBytesMax) {
    return mlsFailure("mls_rule_violation", `plaintext over ${mlsLimits.plaintextBytesMax} bytes`);
  }
  if (authenticatedData.length > mlsLimits.authenticatedDataBytesMax) {
    return mlsFailure("mls_rule_violation", "authenticated data too long");
  }
  // RFC 9420 §12.1: no application message while proposals await a commit.
  if (Object.keys(member.state.unappliedProposals).length > 0) {
    return mlsFailure("mls_unapplied_proposals", "commit the pending proposals first");
  }
  try {
    const result = await createApplicationMessage(
      member.state,
      plaintext,
      member.crypto.cipherSuite,
      authenticatedData,
    );
    return {
      kind: "encrypted",
      member: withState(member, result.newState),
      message: encodePrivateMessage(result.privateMessage),
    };
  } catch (thrown) {
    return failureFromLibrary(thrown, "encrypting");
  }
}
