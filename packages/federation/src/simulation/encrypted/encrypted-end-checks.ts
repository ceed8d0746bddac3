// The end of an encrypted seed's run: what every device must show once the
// faults are healed and the devices settled (the invariants of the
// encrypted simulation, packages/federation/README.md).

import { epochOf, processMessage, readPrivateMessageHeader } from "@parley/mls";
import type { StampedMessage } from "../../message-lane/stamped-message.ts";
import type { World } from "../run-seed.ts";
import type { EncryptedWorld } from "./encrypted-world.ts";
import type { SimulatedDevice } from "./simulated-device.ts";

export async function checkEnd(encrypted: EncryptedWorld): Promise<void> {
  const { world } = encrypted;
  const room = world.room;
  if (room === null) return;
  const state = world.servers[0]?.host?.session(room)?.replica.state;
  const epoch = state?.mls?.epoch;
  const held = [...(world.servers[0]?.storage.messages(room).all() ?? [])].map(
    (stored) => stored.message,
  );
  for (const device of encrypted.devices) {
    const name = device.number === 0 ? device.user : `${device.user}'s device ${device.number}`;
    const joined = state?.members.get(device.user)?.membership === "joined";
    if (device.revoked) {
      if (device.member !== null) world.observer.violate(`${name} was revoked but is in the group`);
    } else {
      if (joined && device.epoch !== epoch) {
        world.observer.violate(`${name} is at epoch ${device.epoch}, the room at ${epoch}`);
      }
      if (!joined && device.member !== null)
        world.observer.violate(`${name} left but is in the group`);
      if (joined && device.settled.size !== held.length) {
        world.observer.violate(`${name} settled ${device.settled.size} of ${held.length} messages`);
      }
    }
    await checkRemoved(world, device, held);
  }
}

/** A removed device's last state must not decrypt messages of the epochs after its removal. */
async function checkRemoved(
  world: World,
  device: SimulatedDevice,
  held: readonly StampedMessage[],
): Promise<void> {
  const before = device.removedMember;
  const removedEpoch = device.removedEpoch;
  if (before === null || removedEpoch === null) return;
  let tried = 0;
  for (const message of held) {
    const header = readPrivateMessageHeader(message.body);
    if (header.kind !== "header" || Number(header.header.epoch) < removedEpoch) continue;
    const outcome = await processMessage(before, message.body);
    if (outcome.kind === "application") {
      world.observer.violate(
        `${device.user}, removed at epoch ${removedEpoch} (state at ${epochOf(before)}), decrypted a message of epoch ${header.header.epoch} from ${message.sender}: ${new TextDecoder().decode(outcome.plaintext)}`,
      );
    }
    tried += 1;
    if (tried >= 3) return;
  }
}
