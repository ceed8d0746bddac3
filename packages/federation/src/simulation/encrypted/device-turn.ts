import {
  encryptMessage,
  membersOfGroup,
  prepareCommit,
  processMessage,
  readPrivateMessageHeader,
} from "@parley/mls";
import type { UserId } from "@parley/protocol";
import type { ControlEntry } from "@parley/room";
import { messageKey } from "../../message-lane/stamped-message.ts";
import type { World } from "../run-seed.ts";
import type { SimulatedServer } from "../simulated-server.ts";
import { checkerOf, type EncryptedWorld, firstDeviceOf, proposeCommit } from "./encrypted-world.ts";
import { rejoinNext, settleRejoin } from "./rejoin.ts";
import { commitAttemptsMax, type SimulatedDevice } from "./simulated-device.ts";

/** A submitted commit not ordered within this long is made again (its entry may be lost). */
const submissionTimeoutMs = 3_000;

/**
 * One turn of the asynchronous side, run between steps of the simulated
 * clock (which stands still meanwhile, so a turn takes no simulated time and
 * the run stays a function of the seed): sponsors answer the commit checks
 * leaves asked for; every device processes its server's newly applied
 * entries in order, makes its next commit, sends what it was asked to, and
 * decrypts the messages its server holds. Returns violations found.
 */
export async function deviceTurn(encrypted: EncryptedWorld): Promise<string[]> {
  const violations: string[] = [];
  const { world } = encrypted;
  const room = world.room;
  if (room === null) return violations;
  for (const request of world.observer.commitChecks.splice(0)) {
    const state = request.server.host?.session(room)?.replica.state;
    if (state === undefined) continue;
    const verdict = await checkerOf(encrypted, request.server).check(state, request.event.entry, {
      nowMs: encrypted.mlsNowMs,
      fillAdded: false,
    });
    const { proposer, requestId } = request.event;
    request.server.run((host) => host.resolveCommitCheck(room, proposer, requestId, verdict));
  }
  for (const device of encrypted.devices) {
    const server = serverOf(world, device.user);
    const replica = server?.host?.session(room)?.replica;
    if (server === undefined || replica === undefined) continue;
    for (let index = device.processedIndex + 1; index <= replica.appliedIndex; index += 1) {
      const applied = world.observer.applied.get(index);
      if (applied === undefined) break;
      if (device.rejoin !== null) settleRejoin(encrypted, device, applied);
      else {
        const violation = await device.process(encrypted.crypto, room, applied, encrypted.mlsNowMs);
        if (violation !== null) violations.push(violation);
      }
      device.processedIndex = index;
      const { action, actor } = applied.entry;
      if (applied.accepted && action.type === "leave" && actor.type === "user") {
        // A member that sees a leave commits the leaver's removal at once (§10.13);
        // here the creator's first device does, if it is still a member.
        const creator = world.workload.users[0]?.user;
        if (
          device.member !== null &&
          creator !== undefined &&
          device === firstDeviceOf(encrypted, creator)
        ) {
          device.wishes.push({ action: { type: "mls-commit" }, attempts: 0 });
        }
      }
    }
    if (device.revoked) continue; // Its user revoked it: it only follows the log.
    await commitNext(encrypted, device, server);
    await rejoinNext(encrypted, device, server);
    await decryptHeld(encrypted, device, server, violations);
  }
  for (const sender of encrypted.outbox.splice(0)) await send(encrypted, sender);
  return violations;
}

export function serverOf(world: World, user: UserId): SimulatedServer | undefined {
  return world.workload.users.find((each) => each.user === user)?.server;
}

async function commitNext(
  encrypted: EncryptedWorld,
  device: SimulatedDevice,
  server: SimulatedServer,
): Promise<void> {
  const { world } = encrypted;
  const room = world.room;
  const member = device.member;
  if (room === null || member === null) return;
  const now = world.scheduler.nowMs();
  const waiting = device.submitted[0];
  if (waiting !== undefined) {
    if (now - waiting.submittedAtMs < submissionTimeoutMs) return;
    // Not ordered in time: make it again (the old one still counts if it lands first).
    device.wishes.unshift({ ...waiting.wish, attempts: waiting.wish.attempts });
  }
  const wish = device.wishes.shift();
  if (wish === undefined || wish.attempts >= commitAttemptsMax) return;
  const add = [];
  for (const added of wish.add ?? []) {
    // A device its user revoked after the wish was made is not added.
    if (added.revoked) continue;
    add.push(await added.freshKeyPackage(encrypted.crypto, encrypted.mlsNowMs));
  }
  // Every commit also removes the devices of users gone (neither joined nor
  // invited, as after a leave): the sponsors refuse one that leaves them in.
  const roomState = server.host?.session(room)?.replica.state;
  const staying = wish.action.type === "invite" ? wish.action.target : null;
  // And the revoked devices of its own user, as the SDK does (the user's
  // other devices take them out, §10.2).
  const revoked = new Set<string>(
    encrypted.devices
      .filter((each) => each.revoked && each.user === device.user)
      .map((each) => each.device),
  );
  const gone = membersOfGroup(member)
    .filter((leaf) => {
      const membership = roomState?.members.get(leaf.user as UserId)?.membership;
      if (revoked.has(leaf.device)) return true;
      return (
        leaf.user !== staying &&
        leaf.device !== device.device &&
        membership !== "joined" &&
        membership !== "invited"
      );
    })
    .map((leaf) => leaf.device);
  const remove = [...new Set([...(wish.remove ?? []), ...gone])];
  const prepared = await prepareCommit(member, { add, remove }, { nowMs: encrypted.mlsNowMs });
  if (prepared.kind === "failed") return;
  const { pending } = prepared;
  const entry: ControlEntry = {
    ...world.workload.entry(device.user, wish.action),
    mls: {
      epoch: Number(pending.baseEpoch),
      commit: pending.commit,
      groupInfo: pending.groupInfo,
      ratchetTree: pending.ratchetTree,
      welcome: pending.welcome ?? null,
      added: pending.change.added.map((added) => ({
        user: added.user as UserId,
        device: added.device,
      })),
    },
  };
  device.submitted.push({
    pending,
    wish: { ...wish, attempts: wish.attempts + 1 },
    submittedAtMs: now,
  });
  await proposeCommit(encrypted, server, entry);
}

async function send(encrypted: EncryptedWorld, device: SimulatedDevice): Promise<void> {
  const { world } = encrypted;
  const sender = device.user;
  const server = serverOf(world, sender);
  const room = world.room;
  if (device.member === null || device.revoked || server === undefined || room === null) return;
  encrypted.nextClientId += 1;
  const clientId = `e${encrypted.nextClientId}`;
  const plaintext = `${sender} says ${encrypted.nextClientId}`;
  const outcome = await encryptMessage(device.member, new TextEncoder().encode(plaintext));
  if (outcome.kind === "failed") return;
  device.member = outcome.member;
  encrypted.plaintexts.set(clientId, plaintext);
  encrypted.sentBy.set(clientId, device.device);
  const requestId = world.workload.nextRequestId();
  server.run((host) => host.sendMessage(room, sender, clientId, outcome.message, requestId));
}

/** Decrypts the messages the device's server holds that were sent while the device was in the group. */
async function decryptHeld(
  encrypted: EncryptedWorld,
  device: SimulatedDevice,
  server: SimulatedServer,
  violations: string[],
): Promise<void> {
  const room = encrypted.world.room;
  const member = device.member;
  const joined = device.joinedEpoch;
  if (room === null || member === null || joined === null) return;
  const { settled, decryptedSends } = device;
  for (const { message } of server.storage.messages(room).all()) {
    const key = messageKey(message);
    if (settled.has(key)) continue;
    // A retry accepted by a second sponsor is a second stamp of the same
    // ciphertext (§12.4); a client sees a message once per sender and client
    // id, and its key is spent after the first decryption.
    const sent = `${message.sender} ${message.clientMessageId}`;
    if (decryptedSends.has(sent)) {
      settled.add(key);
      continue;
    }
    const header = readPrivateMessageHeader(message.body);
    const epoch = header.kind === "header" ? Number(header.header.epoch) : -1;
    const current = device.epoch ?? -1;
    if (epoch > current) continue; // The device has not reached that epoch yet.
    // Its own messages it cannot decrypt (MLS); its user's other devices' it must.
    if (epoch < joined || encrypted.sentBy.get(message.clientMessageId) === device.device) {
      settled.add(key);
      continue;
    }
    const active = device.member;
    if (active === null) return;
    const outcome = await processMessage(active, message.body);
    settled.add(key);
    decryptedSends.add(sent);
    if (outcome.kind !== "application") {
      violations.push(
        `${device.user} cannot decrypt ${key} (epoch ${epoch}): ${outcome.kind === "failed" ? outcome.detail : outcome.kind}`,
      );
      continue;
    }
    device.member = outcome.member;
    const text = new TextDecoder().decode(outcome.plaintext);
    if (text !== encrypted.plaintexts.get(message.clientMessageId)) {
      violations.push(`${device.user} decrypted ${key} to the wrong plaintext`);
    }
  }
}
