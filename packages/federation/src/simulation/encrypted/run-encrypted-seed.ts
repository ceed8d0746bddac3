import { createMlsCrypto, createRoomGroup } from "@parley/mls";
import { nodePrimitives } from "@parley/mls/node";
import { nobleSignatureProvider, type RoomId, type UserId } from "@parley/protocol";
import { Nemesis } from "@parley/simulation";
import { isConverged } from "../end-checks.ts";
import { createWorld, heal, isVoter, maybeCrashOne, runUntil, startServers } from "../run-seed.ts";
import type { ScenarioOverrides } from "../scenario.ts";
import { deviceTurn } from "./device-turn.ts";
import { checkEnd } from "./encrypted-end-checks.ts";
import { devicesOf, type EncryptedWorld, firstDeviceOf } from "./encrypted-world.ts";
import { loseState, retryRejoins } from "./rejoin.ts";
import { acceptInvites, comeBack, rejoinStranded, usersAway } from "./returning.ts";
import { commitAttemptsMax, SimulatedDevice } from "./simulated-device.ts";

export interface EncryptedSeedReport {
  readonly seed: number;
  readonly ok: boolean;
  readonly violations: readonly string[];
  readonly fingerprint: string;
  readonly epoch: number;
  readonly commitsLost: number;
  readonly messagesDecrypted: number;
  readonly removedDevices: number;
  /** Users' returns after they left or were kicked: invited again, and joined by themselves (open room). */
  readonly returnsByInvite: number;
  readonly returnsOpen: number;
  /** Devices that joined by their own external commit after their user was in (added later). */
  readonly devicesJoinedLater: number;
}

/** Simulated time between device turns. */
const turnMs = 100;
/** Chance per turn that a user out of the room comes back (there usually is one after a kick or a leave). */
const returnChancePerTurn = 0.1;
/** An invited user whose devices joined accepts again after this long if its join was lost. */
const inviteAnswerGapMs = 1_000;
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
 * makes one at once), a member now and then loses its MLS state and
 * rejoins by external commit (§13.9), and users who left or were kicked
 * come back, invited again or by external join into the opened room. After the heal every device must have caught
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
  // Every user has a device; about half of the others have a second one,
  // which the invite adds too, and which its user may revoke during chaos.
  const devices: SimulatedDevice[] = [];
  const seconds = world.random.fork("devices");
  for (const [index, user] of world.workload.users.entries()) {
    devices.push(new SimulatedDevice(user.user, String(seed)));
    if (index > 0 && seconds.chance(0.5)) {
      devices.push(new SimulatedDevice(user.user, String(seed), 1));
    }
  }
  const encrypted: EncryptedWorld = {
    world,
    crypto,
    mlsNowMs,
    devices,
    checkers: new Map(),
    plaintexts: new Map(),
    sentBy: new Map(),
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
    commitsLost: devices.reduce((sum, device) => sum + device.commitsLost, 0),
    messagesDecrypted: devices.reduce((sum, device) => sum + device.settled.size, 0),
    removedDevices: devices.filter((device) => device.removedMember !== null).length,
    returnsByInvite: devices.reduce((sum, device) => sum + device.rejoinedByInvite, 0),
    returnsOpen: devices.reduce((sum, device) => sum + device.rejoinedOpen, 0),
    devicesJoinedLater: devices.filter((device) => device.joinedLater).length,
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

/** Whether some device of the user is in the group. */
function isMember(encrypted: EncryptedWorld, user: UserId): boolean {
  return devicesOf(encrypted, user).some((device) => device.member !== null);
}

/** The user's devices in the group and not revoked. */
function liveDevicesOf(encrypted: EncryptedWorld, user: UserId): SimulatedDevice[] {
  return devicesOf(encrypted, user).filter((device) => device.member !== null && !device.revoked);
}

/** One of the user's live devices; undefined if none. */
function liveDeviceOf(
  encrypted: EncryptedWorld,
  user: UserId,
  pick: <Item>(items: readonly Item[]) => Item,
): SimulatedDevice | undefined {
  const live = liveDevicesOf(encrypted, user);
  return live.length === 0 ? undefined : pick(live);
}

/**
 * The user revokes one of its live devices while keeping another: the
 * revoked one stops acting, and the kept one commits its removal (every
 * commit of the user's devices removes revoked ones too, as the SDK does).
 */
function revokeOne(
  encrypted: EncryptedWorld,
  user: UserId,
  pick: <Item>(items: readonly Item[]) => Item,
): void {
  const live = liveDevicesOf(encrypted, user);
  if (live.length < 2) return;
  const revoked = pick(live);
  revoked.revoked = true;
  // A commit it already submitted may still be ordered; it settles that one
  // as usual (it keeps following the log), but makes no new ones.
  revoked.wishes.splice(0, revoked.wishes.length);
  revoked.rejoin = null;
  const keeper = live.find((device) => device !== revoked);
  keeper?.wishes.push({ action: { type: "mls-commit" }, remove: [revoked.device], attempts: 0 });
}

async function setUp(encrypted: EncryptedWorld, report: Report): Promise<boolean> {
  const { world } = encrypted;
  const { sponsors, leaves, workload, scheduler } = world;
  const creator = workload.users[0];
  const first = sponsors[0];
  if (creator === undefined || first === undefined) return false;
  const room = startServers(world);
  const creatorDevice = firstDeviceOf(encrypted, creator.user);
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
  // Some users' second device is one they add later: the invite brings in
  // the first, and the second joins by its own external commit once its user
  // is in the room (a new device of a member, §10.13).
  const later = world.random.fork("devices added later");
  for (const user of workload.users.slice(1)) {
    const [first, ...others] = devicesOf(encrypted, user.user);
    const addedLater = others.length > 0 && later.chance(0.3);
    creatorDevice.wishes.push({
      action: { type: "invite", target: user.user },
      add: addedLater && first !== undefined ? [first] : devicesOf(encrypted, user.user),
      attempts: 0,
    });
  }
  const membership = (user: UserId) =>
    first.host?.session(room)?.replica.state?.members.get(user)?.membership;
  const deadline = scheduler.nowMs() + 30_000;
  const proposed = new Map<UserId, number>();
  while (scheduler.nowMs() < deadline) {
    acceptInvites(encrypted, proposed, 0);
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
  const proposed = new Map<UserId, number>();
  while (scheduler.nowMs() < end) {
    acceptInvites(encrypted, proposed, inviteAnswerGapMs);
    rejoinStranded(encrypted);
    // About one action per interval: a message, an update commit, a member
    // going, or a device revoked.
    const members = workload.users.filter((user) => isMember(encrypted, user.user));
    const pick = <Item>(items: readonly Item[]): Item => actions.pick(items);
    if (members.length > 0 && actions.chance(turnMs / (turnMs + scenario.actionIntervalMs))) {
      const user = actions.pick(members);
      const device = liveDeviceOf(encrypted, user.user, pick);
      if (device === undefined) {
        // Its only live device is revoked or lost: nothing to do this turn.
      } else if (!actions.chance(scenario.controlShare)) encrypted.outbox.push(device);
      else if (actions.chance(0.1) && user !== creator) {
        // A device loses its MLS state (a commit it cannot process, a client
        // restored without it) and rejoins by external commit.
        loseState(device);
      } else if (actions.chance(0.75) || creator === undefined) {
        device.wishes.push({ action: { type: "mls-commit" }, attempts: 0 });
        // A second member commits in the same epoch at the same moment: a race.
        const other = liveDeviceOf(encrypted, actions.pick(members).user, pick);
        if (other !== undefined && other !== device) {
          other.wishes.push({ action: { type: "mls-commit" }, attempts: 0 });
        }
      } else {
        // A member goes: kicked or banned (a removal commit by the creator),
        // or leaving by itself (no commit; the creator then commits its
        // removal); or a user revokes one of its two devices, which the
        // other then takes out of the group.
        const targets = members.filter((candidate) => !candidate.anchor);
        const target = targets.length === 0 ? undefined : actions.pick(targets);
        const how = actions.pick([
          "kick",
          "ban",
          "leave",
          "revoke",
          "revoke",
          "open-or-close",
        ] as const);
        if (how === "open-or-close") {
          const rule = creator.server.host?.session(world.room as RoomId)?.replica.state?.joinRule;
          workload.propose(world.room as RoomId, creator, {
            type: "set-join-rule",
            joinRule: rule === "open" ? "invite" : "open",
          });
        } else if (target === undefined) {
          // Only anchors are left.
        } else if (how === "leave") {
          workload.propose(world.room as RoomId, target, { type: "leave" });
        } else if (how === "revoke") {
          revokeOne(encrypted, target.user, pick);
        } else {
          firstDeviceOf(encrypted, creator.user).wishes.push({
            action: { type: how, target: target.user, reason: "simulated" },
            remove: devicesOf(encrypted, target.user).map((each) => each.device),
            attempts: 0,
          });
        }
      }
    }
    if (creator !== undefined && actions.chance(returnChancePerTurn)) {
      // A user who left or was kicked comes back: invited again, or by
      // itself by external commit into the room, opened for it if need be.
      const away = usersAway(encrypted, creator);
      const returning = away.length === 0 ? undefined : actions.pick(away);
      if (returning !== undefined) comeBack(encrypted, returning, creator, actions.chance(0.5));
    }
    maybeCrashOne(world, crashes, (scenario.crashesPerSecond * turnMs) / 1000);
    if (!(await step(encrypted, report, Math.min(end, scheduler.nowMs() + turnMs)))) return false;
  }
  nemesis.stop();
  return true;
}

/**
 * A revoked device still in the group whose removal was lost (the keeping
 * device lost its state, or its commit its race too often) is taken out by
 * the next commit of one of its user's live devices: make one, as the SDK
 * does at every start.
 */
function remindKeepers(encrypted: EncryptedWorld): void {
  for (const revoked of encrypted.devices.filter(
    (device) => device.revoked && device.member !== null,
  )) {
    const [keeper] = liveDevicesOf(encrypted, revoked.user);
    if (keeper !== undefined && keeper.wishes.length === 0 && keeper.submitted.length === 0) {
      keeper.wishes.push({ action: { type: "mls-commit" }, attempts: 0 });
    }
  }
}

/** After the heal: turns until no device has work left, then a last round of messages. */
async function settle(encrypted: EncryptedWorld, report: Report): Promise<boolean> {
  const { world } = encrypted;
  const appliedIndex = () =>
    world.room === null ? 0 : world.servers[0]?.host?.session(world.room)?.replica.appliedIndex;
  const deviceQuiet = (device: SimulatedDevice) =>
    // A revoked device makes no more commits: what it still holds is moot,
    // but it is not settled while it is in the group (its user's other
    // device has to take it out: remindKeepers). Nor does one that gave a
    // commit up after its last attempt (lost in the faults; the SDK reports
    // it): that one may still land, and is then settled as its own.
    (device.revoked
      ? device.member === null
      : device.submitted.every((each) => each.wish.attempts >= commitAttemptsMax) &&
        device.wishes.length === 0 &&
        device.rejoin === null) && device.processedIndex === appliedIndex();
  const quiet = () => encrypted.devices.every(deviceQuiet) && isConverged(world);
  const proposed = new Map<UserId, number>();
  for (let turn = 0; turn < settleTurnsMax && !quiet(); turn += 1) {
    remindKeepers(encrypted);
    retryRejoins(encrypted);
    acceptInvites(encrypted, proposed, inviteAnswerGapMs);
    rejoinStranded(encrypted);
    if (!(await step(encrypted, report, world.scheduler.nowMs() + turnMs))) return false;
  }
  for (const device of encrypted.devices) encrypted.outbox.push(device);
  for (let turn = 0; turn < 30; turn += 1) {
    if (!(await step(encrypted, report, world.scheduler.nowMs() + turnMs))) return false;
  }
  if (!quiet()) {
    const unsettled = encrypted.devices.filter((device) => !deviceQuiet(device)).map(describe);
    const converged = isConverged(world) ? "" : "; the servers did not converge";
    world.observer.violate(
      `devices did not settle after the heal (log at ${appliedIndex()}${converged}): ${unsettled.join("; ")}`,
    );
  }
  return world.observer.violations.length === 0;
}

/** What a device still has under way, for a failure report. */
function describe(device: SimulatedDevice): string {
  const rejoin = device.rejoin;
  const parts = [
    `${device.user}#${device.number} at index ${device.processedIndex}`,
    device.member === null ? "not a member" : `epoch ${device.epoch}`,
    `${device.wishes.length} wishes`,
    `${device.submitted.length} submitted (attempts ${device.submitted.map((each) => each.wish.attempts).join(",")})`,
  ];
  if (rejoin !== null) {
    parts.push(
      `${rejoin.action} ${rejoin.pending === null ? "unmade" : "pending"} after ${rejoin.attempts} attempts`,
    );
  }
  return parts.join(", ");
}
