import {
  createMlsCrypto,
  createRoomGroup,
  epochOf,
  processMessage,
  readPrivateMessageHeader,
} from "@parley/mls";
import { nodePrimitives } from "@parley/mls/node";
import { nobleSignatureProvider, type RoomId, type UserId } from "@parley/protocol";
import { Nemesis } from "@parley/simulation";
import type { StampedMessage } from "../../message-lane/stamped-message.ts";
import { isConverged } from "../end-checks.ts";
import {
  createWorld,
  heal,
  isVoter,
  maybeCrashOne,
  runUntil,
  startServers,
  type World,
} from "../run-seed.ts";
import type { ScenarioOverrides } from "../scenario.ts";
import { deviceTurn } from "./device-turn.ts";
import type { EncryptedWorld } from "./encrypted-world.ts";
import { loseState } from "./rejoin.ts";
import { SimulatedDevice } from "./simulated-device.ts";

export interface EncryptedSeedReport {
  readonly seed: number;
  readonly ok: boolean;
  readonly violations: readonly string[];
  readonly fingerprint: string;
  readonly epoch: number;
  readonly commitsLost: number;
  readonly messagesDecrypted: number;
  readonly removedDevices: number;
}

/** Simulated time between device turns. */
const turnMs = 100;
/** Turns after the heal for devices to catch up and lost commits to land. */
const settleTurnsMax = 200;
/**
 * Messages of past epochs must decrypt: the simulation's devices lag by many
 * epochs under partitions, so the window is wider than the SDK's default.
 */
const pastEpochWindow = 256;

/**
 * The whole-federation simulation with an encrypted room: the same world as
 * runSeed (real Raft, room logic, faults, crashes), with one MLS device per
 * user doing what the SDK does (packages/mls, real ts-mls). The room is
 * created encrypted; invites add the invitee's device by commit; during
 * chaos members send encrypted messages, commit updates (often at the same
 * time, so commits race for an epoch), the creator kicks or bans non-anchor
 * users (a removal commit), and non-anchor users leave (no commit: the next
 * commit of any member must remove the leaver's device, and the creator
 * makes one at once), and a member now and then loses its MLS state and
 * rejoins by external commit (§13.9). After the heal every device must have caught
 * up: every member in the room's epoch, every message of its membership
 * decrypted, and removed devices unable to read what followed.
 */
export async function runEncryptedSeed(
  seed: number,
  overrides: ScenarioOverrides = {},
  mlsNowMs = Math.floor(Date.now() / 60_000) * 60_000,
): Promise<EncryptedSeedReport> {
  const world = createWorld(seed, overrides);
  world.observer.keepApplied = true;
  const bytes = world.random.fork("mls");
  const crypto = await createMlsCrypto({
    signatureProvider: nobleSignatureProvider,
    primitives: nodePrimitives,
    pastEpochWindow,
    randomBytes: (length) => Uint8Array.from({ length }, () => bytes.integerBelow(256)),
  });
  const devices = new Map<UserId, SimulatedDevice>();
  for (const user of world.workload.users) {
    devices.set(user.user, new SimulatedDevice(user.user, String(seed)));
  }
  const encrypted: EncryptedWorld = {
    world,
    crypto,
    mlsNowMs,
    devices,
    checkers: new Map(),
    plaintexts: new Map(),
    settled: new Map(),
    decryptedSends: new Map(),
    outbox: [],
    nextClientId: 0,
  };
  const violations = (found: readonly string[]) => {
    for (const text of found) world.observer.violate(text);
    return world.observer.violations.length === 0;
  };
  const ok =
    (await setUp(encrypted, violations)) &&
    (await chaos(encrypted, violations)) &&
    heal(world) &&
    (await settle(encrypted, violations));
  if (ok) await checkEnd(encrypted);
  const state =
    world.room === null ? undefined : world.servers[0]?.host?.session(world.room)?.replica.state;
  return {
    seed,
    ok: world.observer.violations.length === 0,
    violations: world.observer.violations,
    fingerprint: world.network.fingerprint(),
    epoch: state?.mls?.epoch ?? -1,
    commitsLost: [...devices.values()].reduce((sum, device) => sum + device.commitsLost, 0),
    messagesDecrypted: [...encrypted.settled.values()].reduce((sum, keys) => sum + keys.size, 0),
    removedDevices: [...devices.values()].filter((device) => device.removedMember !== null).length,
  };
}

type Report = (found: readonly string[]) => boolean;

/** Runs `turns` turns of `turnMs`, each a device turn after the clock step. */
async function step(encrypted: EncryptedWorld, report: Report, untilMs: number): Promise<boolean> {
  const { scheduler } = encrypted.world;
  while (scheduler.nowMs() < untilMs) {
    scheduler.runUntil(Math.min(untilMs, scheduler.nowMs() + turnMs));
    if (!report(await deviceTurn(encrypted))) return false;
  }
  return true;
}

function deviceOf(encrypted: EncryptedWorld, user: UserId): SimulatedDevice {
  const device = encrypted.devices.get(user);
  if (device === undefined) throw new Error(`no device for ${user}`);
  return device;
}

async function setUp(encrypted: EncryptedWorld, report: Report): Promise<boolean> {
  const { world } = encrypted;
  const { sponsors, leaves, workload, scheduler } = world;
  const creator = workload.users[0];
  const first = sponsors[0];
  if (creator === undefined || first === undefined) return false;
  const room = startServers(world);
  const creatorDevice = deviceOf(encrypted, creator.user);
  const group = await createRoomGroup(encrypted.crypto, creatorDevice.identity, {
    roomId: room,
    nowMs: encrypted.mlsNowMs,
  });
  creatorDevice.member = group.member;
  creatorDevice.joinedEpoch = 0;
  const create = {
    ...workload.entry(creator.user, {
      type: "create",
      roomId: room,
      kind: "encrypted",
      contentType: "text/plain",
      name: "simulated",
      topic: "",
      joinRule: "invite",
      sponsorPolicy: { mode: "fixed", sponsorsMax: 7 },
    }),
    mls: {
      epoch: 0,
      commit: null,
      welcome: null,
      added: [],
      groupInfo: group.groupInfo,
      ratchetTree: group.ratchetTree,
    },
  } as const;
  first.run((host) => host.createRoom(create, workload.nextRequestId()));
  const isLeader = () => first.host?.session(room)?.group?.role === "leader";
  if (!runUntil(world, isLeader, 5_000)) return false;
  for (const sponsor of sponsors.slice(1)) {
    const entry = workload.serverEntry(first.name, { type: "add-sponsor", server: sponsor.name });
    first.run((host) => host.proposeControl(room, entry, workload.nextRequestId()));
    if (!runUntil(world, () => isVoter(world, sponsor), 10_000)) return false;
  }
  for (const leaf of leaves) leaf.run((host) => host.followRoom(room, [first.name]));
  for (const user of workload.users.slice(1)) {
    creatorDevice.wishes.push({
      action: { type: "invite", target: user.user },
      add: deviceOf(encrypted, user.user),
      attempts: 0,
    });
  }
  const membership = (user: UserId) =>
    first.host?.session(room)?.replica.state?.members.get(user)?.membership;
  const deadline = scheduler.nowMs() + 30_000;
  while (scheduler.nowMs() < deadline) {
    for (const user of workload.users) {
      if (membership(user.user) === "invited" && deviceOf(encrypted, user.user).member !== null) {
        workload.propose(room, user, { type: "join" });
      }
    }
    if (!(await step(encrypted, report, scheduler.nowMs() + 500))) return false;
    if (workload.users.every((user) => membership(user.user) === "joined") && isConverged(world)) {
      return true;
    }
  }
  return false;
}

async function chaos(encrypted: EncryptedWorld, report: Report): Promise<boolean> {
  const { world } = encrypted;
  const { scheduler, network, scenario, random, workload } = world;
  world.observer.phase = "chaos";
  network.setFaults(scenario.faults);
  const nemesis = new Nemesis({ network, scheduler, random: random.fork("nemesis") });
  nemesis.start();
  const end = scheduler.nowMs() + scenario.chaosMs;
  const actions = random.fork("actions");
  const crashes = random.fork("crashes");
  const creator = workload.users[0];
  while (scheduler.nowMs() < end) {
    // About one action per interval: a message, an update commit, or a kick.
    const members = workload.users.filter((user) => deviceOf(encrypted, user.user).member !== null);
    if (members.length > 0 && actions.chance(turnMs / (turnMs + scenario.actionIntervalMs))) {
      const user = actions.pick(members);
      if (!actions.chance(scenario.controlShare)) encrypted.outbox.push(user.user);
      else if (actions.chance(0.1) && user !== creator) {
        // A member loses its MLS state (a commit it cannot process, a client
        // restored without it) and rejoins by external commit.
        loseState(deviceOf(encrypted, user.user));
      } else if (actions.chance(0.75) || creator === undefined) {
        deviceOf(encrypted, user.user).wishes.push({ action: { type: "mls-commit" }, attempts: 0 });
        // A second member commits in the same epoch at the same moment: a race.
        const other = actions.pick(members);
        if (other !== user) {
          deviceOf(encrypted, other.user).wishes.push({
            action: { type: "mls-commit" },
            attempts: 0,
          });
        }
      } else {
        // A member goes: kicked or banned (a removal commit by the creator),
        // or leaving by itself (no commit; the creator then commits its removal).
        const targets = members.filter((candidate) => !candidate.anchor);
        const target = targets.length === 0 ? undefined : actions.pick(targets);
        const how = actions.pick(["kick", "ban", "leave"] as const);
        if (target !== undefined && how === "leave") {
          workload.propose(world.room as RoomId, target, { type: "leave" });
        } else if (target !== undefined) {
          deviceOf(encrypted, creator.user).wishes.push({
            action: { type: how, target: target.user, reason: "simulated" },
            remove: deviceOf(encrypted, target.user).device,
            attempts: 0,
          });
        }
      }
    }
    maybeCrashOne(world, crashes, (scenario.crashesPerSecond * turnMs) / 1000);
    if (!(await step(encrypted, report, Math.min(end, scheduler.nowMs() + turnMs)))) return false;
  }
  nemesis.stop();
  return true;
}

/** After the heal: turns until no device has work left, then a last round of messages. */
async function settle(encrypted: EncryptedWorld, report: Report): Promise<boolean> {
  const { world } = encrypted;
  const quiet = () =>
    [...encrypted.devices.values()].every(
      (device) =>
        device.submitted.length === 0 &&
        device.wishes.length === 0 &&
        device.rejoin === null &&
        device.processedIndex ===
          (world.room === null
            ? 0
            : world.servers[0]?.host?.session(world.room)?.replica.appliedIndex),
    ) && isConverged(world);
  for (let turn = 0; turn < settleTurnsMax && !quiet(); turn += 1) {
    if (!(await step(encrypted, report, world.scheduler.nowMs() + turnMs))) return false;
  }
  for (const user of world.workload.users) encrypted.outbox.push(user.user);
  for (let turn = 0; turn < 30; turn += 1) {
    if (!(await step(encrypted, report, world.scheduler.nowMs() + turnMs))) return false;
  }
  if (!quiet()) world.observer.violate("devices did not settle after the heal");
  return world.observer.violations.length === 0;
}

async function checkEnd(encrypted: EncryptedWorld): Promise<void> {
  const { world } = encrypted;
  const room = world.room;
  if (room === null) return;
  const state = world.servers[0]?.host?.session(room)?.replica.state;
  const epoch = state?.mls?.epoch;
  const held = [...(world.servers[0]?.storage.messages(room).all() ?? [])].map(
    (stored) => stored.message,
  );
  for (const device of encrypted.devices.values()) {
    const joined = state?.members.get(device.user)?.membership === "joined";
    if (joined && device.epoch !== epoch) {
      world.observer.violate(`${device.user} is at epoch ${device.epoch}, the room at ${epoch}`);
    }
    if (!joined && device.member !== null)
      world.observer.violate(`${device.user} left but is in the group`);
    const settled = encrypted.settled.get(device.user) ?? new Set();
    if (joined && settled.size !== held.length) {
      world.observer.violate(`${device.user} settled ${settled.size} of ${held.length} messages`);
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
