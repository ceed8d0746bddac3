// Answers a peer server's `key-package-claim` frame (docs/protocol.md
// §12.2.2, §13.4) from this server's KeyPackage storage. It does no IO of its
// own beyond the claim (one storage transaction): the federation driver calls
// it for a decoded frame from an authenticated peer and sends the result frame
// it returns back to that peer. The federation host (packages/federation)
// never sees these frames: they are about users, not rooms.

import type {
  ClaimedKeyPackage,
  KeyPackageClaimFailure,
  KeyPackageClaimFrame,
  KeyPackageClaimResultFrame,
} from "@parley/federation";
import { isParleyError, parseDeviceId, type ServerName } from "@parley/protocol";
import type { KeyPackageService } from "../key-packages/key-package-service.ts";

/** The part of the KeyPackage service a claim needs. */
export type KeyPackageClaimer = Pick<KeyPackageService, "claimForUsers">;

export interface KeyPackageClaimContext {
  readonly claimer: KeyPackageClaimer;
  /** This server's name: only its users' packages are handed out. */
  readonly localServer: ServerName;
  /** Whether the operator blocked the asking server (administration/server-block-list.ts). */
  readonly isBlocked: (server: ServerName) => boolean;
}

/**
 * The answer to `frame` from the authenticated `peer`. One-time packages it
 * hands out are gone for good, so the driver must send the result even if the
 * asker seems gone (it is queued durably like any frame); a retry with a new
 * request id claims new packages. Throws only what storage throws (the
 * database failing); a claim over the device bound fails every user with
 * `unavailable` instead.
 */
export async function answerKeyPackageClaim(
  context: KeyPackageClaimContext,
  peer: ServerName,
  frame: KeyPackageClaimFrame,
): Promise<KeyPackageClaimResultFrame> {
  const answer = (
    packages: readonly ClaimedKeyPackage[],
    failures: readonly KeyPackageClaimFailure[],
  ): KeyPackageClaimResultFrame => ({
    type: "key-package-claim-result",
    requestId: frame.requestId,
    packages,
    failures,
  });
  if (context.isBlocked(peer)) {
    return answer(
      [],
      frame.users.map((user) => ({ user, code: "forbidden", reason: "your server is blocked" })),
    );
  }
  try {
    const result = await context.claimer.claimForUsers(context.localServer, frame.users);
    return answer(
      result.packages.map((claimed) => ({
        user: claimed.userId,
        device: parseDeviceId(claimed.deviceId),
        keyPackage: claimed.keyPackage,
        lastResort: claimed.lastResort,
      })),
      result.failures.map((failure) => ({
        user: failure.userId,
        code: failure.code,
        reason: failure.message,
      })),
    );
  } catch (thrown) {
    if (!isParleyError(thrown) || thrown.code !== "capacity_exceeded") throw thrown;
    return answer(
      [],
      frame.users.map((user) => ({
        user,
        code: "unavailable",
        reason: "too many devices for one claim: ask for fewer users",
      })),
    );
  }
}
