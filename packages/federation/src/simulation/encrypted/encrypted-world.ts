// What the encrypted simulation's modules share: the encrypted layer of one
// run beside the world, and how a device's commit reaches the control lane
// through its homeserver (a sponsor checks its own user's commit first).

import type { MlsCrypto } from "@parley/mls";
import type { DeviceId, ServerName, UserId } from "@parley/protocol";
import type { ControlEntry } from "@parley/room";
import { CommitChecker } from "../../encryption/commit-checker.ts";
import type { World } from "../run-seed.ts";
import type { SimulatedServer } from "../simulated-server.ts";
import type { SimulatedDevice } from "./simulated-device.ts";

/** What the encrypted layer of one run holds besides the world. */
export interface EncryptedWorld {
  readonly world: World;
  readonly crypto: MlsCrypto;
  /** KeyPackage lifetimes are checked against the real clock by ts-mls, so this is real time, fixed per run. */
  readonly mlsNowMs: number;
  /** Every device of every user; a user's first device comes first. */
  readonly devices: readonly SimulatedDevice[];
  readonly checkers: Map<ServerName, CommitChecker>;
  /** Plaintext of every message sent, by client message id. */
  readonly plaintexts: Map<string, string>;
  /** The device that sent each message, by client message id. */
  readonly sentBy: Map<string, DeviceId>;
  /** Messages waiting to be encrypted and sent, by sending device. */
  readonly outbox: SimulatedDevice[];
  nextClientId: number;
}

/** The user's devices, first device first. */
export function devicesOf(encrypted: EncryptedWorld, user: UserId): SimulatedDevice[] {
  return encrypted.devices.filter((device) => device.user === user);
}

/** The user's first device (the creator's makes the room's removals). */
export function firstDeviceOf(encrypted: EncryptedWorld, user: UserId): SimulatedDevice {
  const device = encrypted.devices.find((each) => each.user === user);
  if (device === undefined) throw new Error(`no device for ${user}`);
  return device;
}

export function checkerOf(encrypted: EncryptedWorld, server: SimulatedServer): CommitChecker {
  let checker = encrypted.checkers.get(server.name);
  if (checker === undefined) {
    checker = new CommitChecker(encrypted.crypto);
    encrypted.checkers.set(server.name, checker);
  }
  return checker;
}

/** Proposes an entry carrying a commit through the device's server, as its homeserver would. */
export async function proposeCommit(
  encrypted: EncryptedWorld,
  server: SimulatedServer,
  entry: ControlEntry,
): Promise<void> {
  const room = encrypted.world.room;
  if (room === null) return;
  const requestId = encrypted.world.workload.nextRequestId();
  const state = server.host?.session(room)?.replica.state;
  if (state !== undefined && server.host?.session(room)?.isSponsor === true) {
    // A sponsor's homeserver checks its own user's commit before proposing it.
    const verdict = await checkerOf(encrypted, server).check(state, entry, {
      nowMs: encrypted.mlsNowMs,
      fillAdded: false,
    });
    if (verdict.kind === "refused") return;
    server.run((host) => host.proposeControl(room, verdict.entry, requestId));
    return;
  }
  server.run((host) => host.proposeControl(room, entry, requestId));
}
