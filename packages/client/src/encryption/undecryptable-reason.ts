// Why a message of an encrypted room could not be read, in words for the
// people using a client: the web and terminal clients both show these in
// place of the message (an `undecryptable` event is never dropped).

import type { ParleyError } from "@parley/protocol";

const reasons: Readonly<Record<string, string>> = {
  mls_replayed: "this device read it before but kept no copy",
  mls_not_member: "it was sent before this device could read the room, or no copy was kept",
  mls_epoch_too_old: "it is older than the keys this device still holds",
  mls_epoch_in_future: "this device has not caught up with the room's keys yet",
  mls_generation_too_far: "too many messages were skipped to reach it",
  mls_authentication_failed: "its sender could not be verified",
  mls_wrong_group: "it was encrypted for another room",
};

/** A sentence saying why an undecryptable message cannot be shown. */
export function undecryptableReason(error: ParleyError): string {
  return `Message could not be decrypted: ${reasons[error.code] ?? `the message is damaged (${error.code})`}.`;
}
