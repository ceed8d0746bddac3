// The federation message lane deduplicates a client's retries by (sender
// user, client message id), at most 64 characters. A room message's own key
// is (device, client id), and a user's devices choose client ids
// independently, so the lane's id is derived from both:
//
//     clientMessageId = base64url(SHA-256(UTF-8("parley/v1/client-message-id")
//                                 || 0x00 || device id || 0x00 || client id))
//
// (43 characters). A retry of the same message gets the same id through any
// sponsor; two devices of one user never collide.

import { createHash } from "node:crypto";

export function clientMessageId(deviceId: string, clientId: string): string {
  return createHash("sha256")
    .update(`parley/v1/client-message-id\0${deviceId}\0${clientId}`)
    .digest("base64url");
}
