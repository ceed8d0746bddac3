/**
 * One simulated run, from a seed to a verdict: a Raft group on faulty
 * networks with crashing disks, membership changes and clients, checked
 * online for Raft's safety properties, then healed and checked for
 * liveness, and finally checked for linearizability. The seed (and the
 * commit) determine the run completely.
 */
import {
  createRandom,
  formatTraceEvent,
  HistoryRecorder,
  type LogCall,
  type LogResult,
  Nemesis,
  type NetworkStatistics,
  quietFaults,
  type RegisterCall,
  type RegisterResult,
  SimulatedNetwork,
  SimulatedScheduler,
  SimulationMisuseError,
} from "@parley/simulation";
import { type Message, RaftAssertionError } from "../index.ts";
import { Chaos, type ChaosStatistics } from "./chaos.ts";
import { type ClientEnvelope, describeEnvelope } from "./client-protocol.ts";
import { type ClientStatistics, SimulatedClient } from "./clients.ts";
import { type ClusterStatistics, SimulatedCluster } from "./cluster.ts";
import { checkHistories, type LinearizabilityVerdict } from "./histories.ts";
import { LivenessProbe } from "./liveness.ts";
import { type Invariant, SafetyMonitor, SafetyViolation } from "./safety-monitor.ts";
import {
  chooseScenario,
  electionTimeoutMs,
  type Scenario,
  type SimulationOptions,
} from "./scenario.ts";
import { Timeline } from "./timeline.ts";

export interface SimulationFailure {
  readonly invariant: Invariant | "simulator bug" | "unexpected exception";
  readonly message: string;
  readonly atMs: number;
}

export interface RunStatistics {
  readonly clients: ClientStatistics;
  readonly cluster: ClusterStatistics;
  readonly chaos: ChaosStatistics;
  readonly network: NetworkStatistics;
  readonly committedIndex: number;
  readonly leaderTerms: number;
  /** Virtual time from healing until every member applied the marker; null if it never did. */
  readonly livenessMs: number | null;
  readonly linearizability: LinearizabilityVerdict | null;
}

export interface SimulationResult {
  readonly options: SimulationOptions;
  readonly scenario: Scenario;
  readonly failure: SimulationFailure | null;
  readonly eventsRun: number;
  readonly virtualMs: number;
  readonly fingerprint: string;
  readonly statistics: RunStatistics;
  readonly timeline: readonly string[];
  readonly networkTrace: readonly string[];
}

/** Events a run may take: far above a healthy run's, so only a livelock reaches it. */
const eventsPerVirtualSecondMax = 200_000;

/** How long the probe may take, beyond the election timeouts it may need. */
const livenessBaseMs = 10_000;

export function runSimulation(options: SimulationOptions): SimulationResult {
  const root = createRandom(options.seed);
  const scenario = chooseScenario(root.fork("scenario"));
  const scheduler = new SimulatedScheduler();
  const timeline = new Timeline(scheduler, options.timeline || options.trace, options.trace);
  const note = (text: string): void => timeline.note(text);
  const raftNetwork = new SimulatedNetwork<Message>({
    scheduler,
    random: root.fork("network"),
    faults: scenario.faults,
    describePayload: (message) => `${message.type} t${message.term}`,
    traceEventsKept: options.trace ? 1_000_000 : 0,
  });
  const clientNetwork = new SimulatedNetwork<ClientEnvelope>({
    scheduler,
    random: root.fork("client-network"),
    faults: scenario.clientFaults,
    describePayload: describeEnvelope,
    traceEventsKept: 0,
  });
  const nemesis = new Nemesis({ network: raftNetwork, scheduler, random: root.fork("nemesis") });
  const monitor = new SafetyMonitor(note);
  let tightJitter = scenario.bias.tightElectionJitter;
  let chaos: Chaos | undefined;
  let probe: LivenessProbe | undefined;
  const cluster = new SimulatedCluster(
    {
      scheduler,
      raftNetwork,
      clientNetwork,
      monitor,
      scenario,
      bugs: new Set(options.bugs),
      logger: (id) => timeline.loggerFor(id),
      tightElectionJitter: () => tightJitter,
    },
    root.fork("cluster"),
    scenario.initialVoters,
    note,
    {
      voteGranted: (node) => chaos?.voteGranted(node),
      becameLeader: (node) => chaos?.becameLeader(node),
      leaderCommitted: (node) => chaos?.leaderCommitted(node),
      markerApplied: (node, marker, index) => probe?.markerApplied(node, marker, index),
    },
  );
  chaos = new Chaos(scenario, scheduler, raftNetwork, cluster, root.fork("chaos"), note);
  const registers = new HistoryRecorder<RegisterCall, RegisterResult>(scheduler);
  const logs = new HistoryRecorder<LogCall, LogResult>(scheduler);
  const clientStatistics: ClientStatistics = {
    operations: 0,
    completed: 0,
    gaveUp: 0,
    attempts: 0,
  };
  const clientRandom = root.fork("clients");
  const clients: SimulatedClient[] = [];
  for (let i = 1; i <= scenario.clients; i++) {
    const client = new SimulatedClient(
      `c${i}`,
      {
        scheduler,
        network: clientNetwork,
        scenario,
        registers,
        logs,
        members: () => cluster.members(),
      },
      clientRandom.fork(`c${i}`),
      clientStatistics,
    );
    clients.push(client);
  }

  const livenessBoundMs = livenessBaseMs + 20 * electionTimeoutMs(scenario);
  const eventsMax = Math.ceil(
    ((options.durationMs + livenessBoundMs) / 1000) * eventsPerVirtualSecondMax,
  );
  let failure: SimulationFailure | null = null;
  let livenessMs: number | null = null;

  /** Runs until `untilMs` or `done()`, turning any thrown violation into the run's failure. */
  const runUntil = (untilMs: number, done: () => boolean = () => false): void => {
    const sliceMs = 50;
    while (failure === null && scheduler.nowMs() < untilMs && !done()) {
      const target = Math.min(untilMs, scheduler.nowMs() + sliceMs);
      try {
        const remaining = eventsMax - scheduler.eventsRunTotal;
        const result = scheduler.runUntil(target, Math.max(0, remaining));
        if (result.stoppedBecause === "event-limit") {
          failure = {
            invariant: "event budget",
            message: `more than ${eventsMax} events: a livelock, or a message storm`,
            atMs: scheduler.nowMs(),
          };
        }
      } catch (error) {
        failure = describeError(error, scheduler.nowMs());
      }
    }
  };

  // The fault phase.
  nemesis.start();
  chaos.start();
  for (const client of clients) client.start();
  runUntil(options.durationMs);

  // The liveness phase: faults stop, the network heals, members come back.
  if (failure === null) {
    note("liveness phase: faults stop, network heals, members restart");
    nemesis.stop();
    chaos.stop();
    for (const client of clients) client.stopIssuing();
    raftNetwork.heal();
    raftNetwork.setFaults(quietFaults);
    clientNetwork.setFaults(quietFaults);
    tightJitter = false;
    // Every crashed node comes back, members or not: a node still joining
    // may become a member while the probe runs.
    for (const node of cluster.nodes.values()) cluster.restart(node);
    const probeRandom = root.fork("liveness");
    const activeProbe = new LivenessProbe(
      scheduler,
      cluster,
      Math.max(100, electionTimeoutMs(scenario)),
      (nodes) => probeRandom.pick(nodes),
      note,
    );
    probe = activeProbe;
    activeProbe.start();
    const deadline = scheduler.nowMs() + livenessBoundMs;
    runUntil(deadline, () => activeProbe.satisfied());
    activeProbe.stop();
    if (failure === null) {
      if (activeProbe.satisfied()) {
        livenessMs = scheduler.nowMs() - activeProbe.startedAtMs;
      } else {
        failure = {
          invariant: "liveness",
          message: `no progress within ${livenessBoundMs} ms of healing: ${activeProbe.describe()}`,
          atMs: scheduler.nowMs(),
        };
      }
    }
  }

  let linearizability: LinearizabilityVerdict | null = null;
  if (failure === null) {
    linearizability = checkHistories(registers.operations(), logs.operations());
    if (linearizability.verdict === "not-linearizable") {
      failure = {
        invariant: "linearizability",
        message: linearizability.description,
        atMs: scheduler.nowMs(),
      };
    }
  }

  return {
    options,
    scenario,
    failure,
    eventsRun: scheduler.eventsRunTotal,
    virtualMs: scheduler.nowMs(),
    fingerprint: raftNetwork.fingerprint(),
    statistics: {
      clients: clientStatistics,
      cluster: cluster.statistics,
      chaos: chaos.statistics,
      network: raftNetwork.statistics(),
      committedIndex: monitor.committedIndex,
      leaderTerms: monitor.leaderTerms,
      livenessMs,
      linearizability,
    },
    timeline: timeline.entries(),
    networkTrace: options.trace ? raftNetwork.trace().map(formatTraceEvent) : [],
  };
}

function describeError(error: unknown, atMs: number): SimulationFailure {
  if (error instanceof SafetyViolation) {
    return { invariant: error.invariant, message: error.message, atMs };
  }
  if (error instanceof RaftAssertionError) {
    return { invariant: "core assertion", message: error.message, atMs };
  }
  if (error instanceof SimulationMisuseError) {
    return { invariant: "simulator bug", message: error.message, atMs };
  }
  const message =
    error instanceof Error
      ? `${error.name}: ${error.message}\n${error.stack ?? ""}`
      : String(error);
  return { invariant: "unexpected exception", message, atMs };
}
