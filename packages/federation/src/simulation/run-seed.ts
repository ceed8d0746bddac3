import { type RoomId, roomIdFromBytes, type ServerName } from "@parley/protocol";
import {
  createRandom,
  Nemesis,
  quietFaults,
  type Random,
  SimulatedNetwork,
  SimulatedScheduler,
} from "@parley/simulation";
import { checkConvergence, checkSteadyCopies, isConverged } from "./end-checks.ts";
import { FederationObserver } from "./observer.ts";
import {
  chooseScenario,
  describeScenario,
  type Scenario,
  type ScenarioOverrides,
} from "./scenario.ts";
import { SimulatedServer, type WirePayload } from "./simulated-server.ts";
import { Workload } from "./workload.ts";

export interface SeedReport {
  readonly seed: number;
  readonly ok: boolean;
  readonly violations: readonly string[];
  readonly scenario: string;
  readonly fingerprint: string;
  readonly simulatedMs: number;
  readonly messagesAccepted: number;
  readonly controlIndex: number;
}

/** Everything one run holds; the phases below drive it. */
export interface World {
  readonly random: Random;
  readonly scenario: Scenario;
  readonly scheduler: SimulatedScheduler;
  readonly network: SimulatedNetwork<WirePayload>;
  readonly observer: FederationObserver;
  readonly servers: readonly SimulatedServer[];
  readonly sponsors: readonly SimulatedServer[];
  readonly leaves: readonly SimulatedServer[];
  readonly workload: Workload;
  room: RoomId | null;
  healStartMs: number;
}

/** Runs one seed: setup, chaos, heal, steady state, then the end-of-run checks. */
export function runSeed(seed: number, overrides: ScenarioOverrides = {}): SeedReport {
  const world = createWorld(seed, overrides);
  const phases: Array<[string, (world: World) => boolean]> = [
    ["setup", setUp],
    ["chaos", chaos],
    ["heal", heal],
    ["steady", steady],
  ];
  for (const [name, phase] of phases) {
    if (!phase(world) || world.observer.violations.length > 0) {
      if (world.observer.violations.length === 0)
        world.observer.violate(`${name} did not complete`);
      break;
    }
  }
  const creator = world.servers[0];
  const state = world.room === null ? undefined : creator?.host?.session(world.room)?.replica;
  return {
    seed,
    ok: world.observer.violations.length === 0,
    violations: world.observer.violations,
    scenario: describeScenario(world.scenario),
    fingerprint: world.network.fingerprint(),
    simulatedMs: world.scheduler.nowMs(),
    messagesAccepted: world.observer.acceptedKeys.size,
    controlIndex: state?.appliedIndex ?? 0,
  };
}

export function createWorld(seed: number, overrides: ScenarioOverrides): World {
  const random = createRandom(seed);
  const scenario = chooseScenario(random.fork("scenario"), overrides);
  const scheduler = new SimulatedScheduler();
  const network = new SimulatedNetwork<WirePayload>({
    scheduler,
    random: random.fork("network"),
    faults: quietFaults,
    traceEventsKept: 0,
    describePayload: (payload) => (payload.kind === "frame" ? payload.frame.type : payload.kind),
  });
  const names: ServerName[] = [];
  for (let number = 1; number <= scenario.sponsorCount + scenario.leafCount; number += 1) {
    names.push(`s${number}.test` as ServerName);
  }
  let world: World | undefined;
  const observer = new FederationObserver(() => world?.room ?? null);
  const environment = { scheduler, network, scenario, observer, peers: () => names };
  const servers = names.map(
    (name) => new SimulatedServer(name, environment, random.fork(`server-${name}`)),
  );
  const workload = new Workload(
    random.fork("workload"),
    scheduler,
    servers,
    scenario.usersPerServer,
  );
  world = {
    random,
    scenario,
    scheduler,
    network,
    observer,
    servers,
    sponsors: servers.slice(0, scenario.sponsorCount),
    leaves: servers.slice(scenario.sponsorCount),
    workload,
    room: null,
    healStartMs: 0,
  };
  return world;
}

/** Runs the simulation until `done` holds (checked every `stepMs`) or `timeoutMs` passes. */
export function runUntil(
  world: World,
  done: () => boolean,
  timeoutMs: number,
  stepMs = 50,
): boolean {
  const deadline = world.scheduler.nowMs() + timeoutMs;
  while (world.scheduler.nowMs() < deadline) {
    if (done()) return true;
    world.scheduler.runUntil(Math.min(deadline, world.scheduler.nowMs() + stepMs));
    if (world.observer.violations.length > 0) return false;
  }
  return done();
}

/** Starts every server, draws the room's id from the seed and lets the links come up. */
export function startServers(world: World): RoomId {
  for (const server of world.servers) server.start();
  const room = roomIdFromBytes(
    Uint8Array.from({ length: 16 }, () => world.random.integerBelow(256)),
  );
  world.room = room;
  world.scheduler.runUntil(world.scheduler.nowMs() + 500);
  return room;
}

export function setUp(world: World): boolean {
  const { sponsors, leaves, workload } = world;
  const creator = workload.users[0];
  const first = sponsors[0];
  if (creator === undefined || first === undefined) return false;
  const room = startServers(world);
  const growth = world.scenario.sponsorGrowth;
  const create = workload.entry(creator.user, {
    type: "create",
    roomId: room,
    kind: "plain",
    contentType: "text/plain",
    name: "simulated",
    topic: "",
    joinRule: "invite",
    sponsorPolicy: { mode: growth === "explicit" ? "fixed" : "invited-by-admin", sponsorsMax: 7 },
  });
  first.run((host) => host.createRoom(create, workload.nextRequestId()));
  const isLeader = () => first.host?.session(room)?.group?.role === "leader";
  if (!runUntil(world, isLeader, 5_000)) return false;
  for (const sponsor of sponsors.slice(1)) {
    if (growth === "explicit") {
      const entry = workload.serverEntry(first.name, { type: "add-sponsor", server: sponsor.name });
      first.run((host) => host.proposeControl(room, entry, workload.nextRequestId()));
    } else {
      const invitee = workload.users.find((user) => user.server === sponsor && user.anchor);
      if (invitee !== undefined)
        workload.propose(room, creator, { type: "invite", target: invitee.user });
    }
    if (!runUntil(world, () => isVoter(world, sponsor), 10_000)) return false;
  }
  for (const user of workload.users.slice(1)) {
    workload.propose(room, creator, { type: "invite", target: user.user });
  }
  const membership = (user: (typeof workload.users)[number]) =>
    first.host?.session(room)?.replica.state?.members.get(user.user)?.membership;
  if (
    !runUntil(
      world,
      () => workload.users.slice(1).every((user) => membership(user) === "invited"),
      10_000,
    )
  ) {
    return false;
  }
  for (const leaf of leaves) leaf.run((host) => host.followRoom(room, [first.name]));
  const joined = () => workload.users.every((user) => membership(user) === "joined");
  const tryJoins = () => {
    for (const user of workload.users) {
      if (membership(user) === "invited") workload.propose(room, user, { type: "join" });
    }
  };
  for (let attempt = 0; attempt < 10 && !joined(); attempt += 1) {
    tryJoins();
    runUntil(world, joined, 2_000);
  }
  if (!joined()) return false;
  return runUntil(world, () => isConverged(world), 10_000);
}

export function isVoter(world: World, sponsor: SimulatedServer): boolean {
  const room = world.room;
  const leader = world.sponsors[0]?.host?.session(room as RoomId)?.group;
  if (room === null || leader === undefined) return false;
  return leader.confState.voters.some((voter) => voter.startsWith(`${sponsor.name}#`));
}

export function chaos(world: World): boolean {
  const { scheduler, network, scenario, observer, workload, random } = world;
  const room = world.room;
  if (room === null) return false;
  observer.phase = "chaos";
  network.setFaults(scenario.faults);
  const nemesis = new Nemesis({ network, scheduler, random: random.fork("nemesis") });
  nemesis.start();
  const end = scheduler.nowMs() + scenario.chaosMs;
  const actions = random.fork("actions");
  const scheduleAction = () => {
    const delay = 1 + actions.integerBelow(2 * scenario.actionIntervalMs);
    scheduler.scheduleAfter(delay, () => {
      if (scheduler.nowMs() >= end) return;
      workload.act(room, scenario.controlShare, scenario.sponsorChangeShare);
      scheduleAction();
    });
  };
  scheduleAction();
  const crashes = random.fork("crashes");
  const stepMs = 100;
  const crashChance = (scenario.crashesPerSecond * stepMs) / 1000;
  while (scheduler.nowMs() < end) {
    maybeCrashOne(world, crashes, crashChance);
    scheduler.runUntil(Math.min(end, scheduler.nowMs() + stepMs));
    if (observer.violations.length > 0) return false;
  }
  nemesis.stop();
  return true;
}

/**
 * With probability `chance`, crashes one server `crashes` picks (if it is
 * running); it starts again after up to the scenario's longest time down.
 */
export function maybeCrashOne(world: World, crashes: Random, chance: number): void {
  if (!crashes.chance(chance)) return;
  const victim = crashes.pick(world.servers);
  if (!victim.isRunning) return;
  victim.crash();
  const downMs = 1 + crashes.integerBelow(world.scenario.downMsMax);
  world.scheduler.scheduleAfter(downMs, () => {
    if (!victim.isRunning) victim.start();
  });
}

export function heal(world: World): boolean {
  const { network, observer, scenario } = world;
  observer.phase = "heal";
  world.healStartMs = world.scheduler.nowMs();
  network.heal();
  network.setFaults(quietFaults);
  for (const server of world.servers) if (!server.isRunning) server.start();
  runUntil(world, () => isConverged(world), scenario.healMsMax, 250);
  checkConvergence(world);
  return observer.violations.length === 0;
}

export function steady(world: World): boolean {
  const { observer, workload, scheduler, scenario } = world;
  const room = world.room;
  if (room === null) return false;
  // Let link state, trees and attachments settle (a lost advertisement is
  // repaired by the next full refresh at the latest), and let every packet of
  // the chaos phase land: a replayed old request would draw a legitimate
  // second copy, which is a fault still in flight, not steady state.
  const faults = scenario.faults;
  const chaosInFlightMs =
    (faults.replayProbability > 0 ? faults.replayDelayMsMax : 0) +
    faults.delayTailMsMax +
    (faults.clogProbability > 0 ? 5 * faults.clogDurationMsMean : 0);
  // A sponsor forgets a leaf that moved away without its detach arriving only
  // when the attachment expires.
  const settledAtMs = Math.max(
    scheduler.nowMs() + scenario.linkStateRefreshTicks * scenario.tickMs + 500,
    scheduler.nowMs() + scenario.attachExpiryTicks * scenario.tickMs + 500,
    world.healStartMs + chaosInFlightMs,
  );
  scheduler.runUntil(settledAtMs);
  observer.steadySinceMs = scheduler.nowMs();
  observer.phase = "steady";
  const anchors = workload.users.filter((user) => user.anchor);
  const picks = world.random.fork("steady");
  for (let count = 0; count < scenario.steadyMessages; count += 1) {
    workload.sendMessage(room, picks.pick(anchors), (requestId) => {
      observer.steadyRequests.add(requestId);
    });
    scheduler.runUntil(scheduler.nowMs() + 100);
  }
  scheduler.runUntil(scheduler.nowMs() + scenario.steadyMs);
  checkSteadyCopies(world);
  checkConvergence(world);
  return observer.violations.length === 0;
}
