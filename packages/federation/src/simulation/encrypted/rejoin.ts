// The recovery of §13.9 in the simulation: a member device that lost its MLS
// state (the stand-in for a commit it cannot process, or a client restored
// without its state) rejoins by external commit from the GroupInfo and tree
// its server's applied state holds, replacing its own old leaf. A rejoin
// that loses the race for its epoch is made again from the newer GroupInfo.
// Messages of the epochs it missed stay unreadable to it; from the rejoin
// on it must read everything, and end in the room's epoch like the others.

import { epochOf, externalJoinAccepted, prepareExternalJoin } from "@parley/mls";
import { equalBytes, type UserId } from "@parley/protocol";
import type { ControlEntry } from "@parley/room";
import type { AppliedEntry } from "../observer.ts";
import type { SimulatedServer } from "../simulated-server.ts";
import { devicesOf, type EncryptedWorld, proposeCommit } from "./encrypted-world.ts";
import { commitAttemptsMax, type SimulatedDevice } from "./simulated-device.ts";

/** A rejoin not ordered within this long is made again. */
const rejoinTimeoutMs = 3_000;
/**
 * External commits made for one rejoin before the device stops for now:
 * under chaos a rejoin from a lagging server can lose its epoch's race to
 * other members' commits every time. `retryRejoins` starts it again.
 */
const rejoinAttemptsMax = commitAttemptsMax * 4;

/** Rejoins that stopped after their attempts start again, as the SDK does at its next start. */
export function retryRejoins(encrypted: EncryptedWorld): void {
  for (const device of encrypted.devices) {
    const rejoin = device.rejoin;
    if (rejoin !== null && rejoin.pending === null && rejoin.attempts >= rejoinAttemptsMax) {
      device.rejoin = { ...rejoin, attempts: 0 };
    }
  }
}

/** How long a user coming back waits for the room to be opened before it gives up. */
const openWaitMs = 3_000;

/**
 * An external commit to make from the next turn on: `mls-commit` for a
 * device of a joined user, `join` for a user coming back into an open room
 * (`sinceMs` starts its wait for the room to open).
 */
export function startRejoin(
  device: SimulatedDevice,
  action: "mls-commit" | "join",
  sinceMs = 0,
): void {
  device.rejoin = { action, pending: null, attempts: 0, submittedAtMs: sinceMs };
}

/** The device forgets its group state and will rejoin. */
export function loseState(device: SimulatedDevice): void {
  if (device.member === null) return;
  device.member = null;
  device.submitted.splice(0, device.submitted.length);
  device.wishes.splice(0, device.wishes.length);
  startRejoin(device, "mls-commit");
}

/**
 * Makes (or makes again) the device's external commit: a rejoin while its
 * user is still joined, or a join while the room is open and its user is
 * neither in it nor banned.
 */
export async function rejoinNext(
  encrypted: EncryptedWorld,
  device: SimulatedDevice,
  server: SimulatedServer,
): Promise<void> {
  const rejoin = device.rejoin;
  const room = encrypted.world.room;
  if (rejoin === null || room === null) return;
  const now = encrypted.world.scheduler.nowMs();
  if (rejoin.pending !== null && now - rejoin.submittedAtMs < rejoinTimeoutMs) return;
  const state = server.host?.session(room)?.replica.state;
  // Its server down or not yet caught up: try again next turn.
  if (state?.mls === undefined || rejoin.attempts >= rejoinAttemptsMax) return;
  const membership = state.members.get(device.user)?.membership;
  // A server replaying its log after a restart may not know the user yet.
  if (membership === undefined) return;
  if (
    rejoin.action === "join" &&
    membership === "left" &&
    state.joinRule !== "open" &&
    rejoin.pending === null &&
    now - rejoin.submittedAtMs < openWaitMs
  ) {
    return; // The room is being opened for it (or closed again): wait a little.
  }
  const allowed =
    rejoin.action === "mls-commit"
      ? membership === "joined"
      : membership === "left" && state.joinRule === "open";
  if (!allowed) {
    // Removed, or the room closed, meanwhile: nothing to do (an entry still
    // in flight is refused by the same rule when it applies).
    device.rejoin = null;
    return;
  }
  const prepared = await prepareExternalJoin(encrypted.crypto, device.identity, {
    roomId: room,
    groupInfo: state.mls.groupInfo,
    ratchetTree: state.mls.ratchetTree,
    nowMs: encrypted.mlsNowMs,
  });
  if (prepared.kind === "failed") return;
  const { pending } = prepared;
  device.rejoin = { ...rejoin, pending, attempts: rejoin.attempts + 1, submittedAtMs: now };
  const entry: ControlEntry = {
    ...encrypted.world.workload.entry(device.user, { type: rejoin.action }),
    mls: {
      epoch: Number(pending.baseEpoch),
      commit: pending.commit,
      groupInfo: pending.groupInfo,
      ratchetTree: pending.ratchetTree,
      welcome: null,
      added: pending.change.added.map((added) => ({
        user: added.user as UserId,
        device: added.device,
      })),
    },
  };
  await proposeCommit(encrypted, server, entry);
}

/**
 * What an applied commit means for a device waiting on its rejoin: ordered,
 * the device is a member again from that epoch (what it missed before is
 * excused); beaten by another commit of its epoch, it makes the rejoin again.
 */
export function settleRejoin(
  encrypted: EncryptedWorld,
  device: SimulatedDevice,
  applied: AppliedEntry,
): void {
  const pending = device.rejoin?.pending;
  const mls = applied.entry.mls;
  if (pending == null || mls === undefined || mls.commit === null) return;
  if (!equalBytes(mls.commit, pending.commit)) {
    if (applied.accepted && mls.epoch >= Number(pending.baseEpoch) && device.rejoin !== null) {
      device.rejoin = { ...device.rejoin, pending: null };
    }
    return;
  }
  if (!applied.accepted) {
    if (device.rejoin !== null) device.rejoin = { ...device.rejoin, pending: null };
    return;
  }
  const member = externalJoinAccepted(encrypted.crypto, pending);
  if (device.joinedEpoch === null) device.joinedLater = true;
  device.member = member;
  device.joinedEpoch = Number(epochOf(member));
  const action = device.rejoin?.action;
  device.rejoin = null;
  if (action !== "join") return;
  device.rejoinedOpen += 1;
  // Its user is back in the room: the user's other devices join the group
  // too, each by its own external commit (the SDK's start-up does this).
  for (const other of devicesOf(encrypted, device.user)) {
    if (other === device || other.revoked || other.member !== null || other.rejoin !== null) {
      continue;
    }
    startRejoin(other, "mls-commit");
  }
}
