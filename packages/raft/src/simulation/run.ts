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
  type Random,
  type RegisterCall,
  type RegisterResult,
  SimulatedNetwork,
  SimulatedScheduler,
  SimulationMisuseError,
} from "@parley/simulation";
import { type Message, type MessageType, RaftAssertionError } from "../index.ts";
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

/** A number per message type, for the network fingerprint (with the term). */
const messageTypeCodes: Record<MessageType, number> = {
  append: 0,
  appendResponse: 1,
  heartbeat: 2,
  heartbeatResponse: 3,
  vote: 4,
  preVote: 5,
  voteResponse: 6,
  preVoteResponse: 7,
  snapshot: 8,
  timeoutNow: 9,
  transferLeader: 10,
  propose: 11,
  readIndex: 12,
  readIndexResponse: 13,
};

/** Events a run may take: far above a healthy run's, so only a livelock reaches it. */
const eventsPerVirtualSecondMax = 200_000;

/** How long the probe may take, beyond the election timeouts it may need. */
const livenessBaseMs = 10_000;

export function runSimulation(options: SimulationOptions): SimulationResult {
  const run = new SimulationRun(options);
  run.faultPhase();
  run.livenessPhase();
  run.checkClientHistories();
  return run.result();
}

/** The world of one run: everything built from the seed, and the phases it goes through. */
class SimulationRun {
  private readonly root: Random;
  private readonly scenario: Scenario;
  private readonly scheduler = new SimulatedScheduler();
  private readonly timeline: Timeline;
  private readonly raftNetwork: SimulatedNetwork<Message>;
  private readonly clientNetwork: SimulatedNetwork<ClientEnvelope>;
  private readonly nemesis: Nemesis<Message>;
  private readonly monitor: SafetyMonitor;
  private readonly cluster: SimulatedCluster;
  private readonly chaos: Chaos;
  private readonly registers: HistoryRecorder<RegisterCall, RegisterResult>;
  private readonly logs: HistoryRecorder<LogCall, LogResult>;
  private readonly clientStatistics: ClientStatistics = {
    operations: 0,
    completed: 0,
    gaveUp: 0,
    attempts: 0,
  };
  private readonly clients: SimulatedClient[] = [];
  private readonly livenessBoundMs: number;
  private readonly eventsMax: number;
  private tightJitter: boolean;
  private probe: LivenessProbe | undefined;
  private failure: SimulationFailure | null = null;
  private livenessMs: number | null = null;
  private linearizability: LinearizabilityVerdict | null = null;

  constructor(private readonly options: SimulationOptions) {
    this.root = createRandom(options.seed);
    const scenario = chooseScenario(this.root.fork("scenario"));
    this.scenario = scenario;
    const scheduler = this.scheduler;
    this.timeline = new Timeline(scheduler, options.timeline || options.trace, options.trace);
    const note = (text: string): void => this.timeline.note(text);
    this.raftNetwork = new SimulatedNetwork<Message>({
      scheduler,
      random: this.root.fork("network"),
      faults: scenario.faults,
      describePayload: (message) => `${message.type} t${message.term}`,
      fingerprintPayload: (message) => message.term * 16 + messageTypeCodes[message.type],
      traceEventsKept: options.trace ? 1_000_000 : 0,
    });
    this.clientNetwork = new SimulatedNetwork<ClientEnvelope>({
      scheduler,
      random: this.root.fork("client-network"),
      faults: scenario.clientFaults,
      describePayload: describeEnvelope,
      // A request id names one attempt, and the fingerprint reported is
      // the Raft network's: this spares describing every envelope.
      fingerprintPayload: (envelope) => envelope.requestId,
      traceEventsKept: 0,
    });
    this.nemesis = new Nemesis({
      network: this.raftNetwork,
      scheduler,
      random: this.root.fork("nemesis"),
    });
    this.monitor = new SafetyMonitor(note);
    this.tightJitter = scenario.bias.tightElectionJitter;
    this.cluster = new SimulatedCluster(
      {
        scheduler,
        raftNetwork: this.raftNetwork,
        clientNetwork: this.clientNetwork,
        monitor: this.monitor,
        scenario,
        bugs: new Set(options.bugs),
        logger: (id) => this.timeline.loggerFor(id),
        tightElectionJitter: () => this.tightJitter,
      },
      this.root.fork("cluster"),
      scenario.initialVoters,
      note,
      {
        voteGranted: (node) => this.chaos.voteGranted(node),
        becameLeader: (node) => this.chaos.becameLeader(node),
        leaderCommitted: (node) => this.chaos.leaderCommitted(node),
        markerApplied: (node, marker, index) => this.probe?.markerApplied(node, marker, index),
      },
    );
    const chaosRandom = this.root.fork("chaos");
    this.chaos = new Chaos(scenario, scheduler, this.raftNetwork, this.cluster, chaosRandom, note);
    this.registers = new HistoryRecorder<RegisterCall, RegisterResult>(scheduler);
    this.logs = new HistoryRecorder<LogCall, LogResult>(scheduler);
    this.createClients();
    this.livenessBoundMs = livenessBaseMs + 20 * electionTimeoutMs(scenario);
    const virtualSeconds = (options.durationMs + this.livenessBoundMs) / 1000;
    this.eventsMax = Math.ceil(virtualSeconds * eventsPerVirtualSecondMax);
  }

  /** Faults everywhere, clients working, the monitor watching every Ready. */
  faultPhase(): void {
    this.nemesis.start();
    this.chaos.start();
    for (const client of this.clients) client.start();
    this.runUntil(this.options.durationMs);
  }

  /** Faults stop, the network heals, every node comes back: the group must make progress. */
  livenessPhase(): void {
    if (this.failure !== null) return;
    this.timeline.note("liveness phase: faults stop, network heals, nodes restart");
    this.nemesis.stop();
    this.chaos.stop();
    for (const client of this.clients) client.stopIssuing();
    this.raftNetwork.heal();
    this.raftNetwork.setFaults(quietFaults);
    this.clientNetwork.setFaults(quietFaults);
    this.tightJitter = false;
    // Every crashed node comes back, members or not: a node still joining
    // may become a member while the probe runs.
    for (const node of this.cluster.nodes.values()) this.cluster.restart(node);
    const probeRandom = this.root.fork("liveness");
    const probe = new LivenessProbe(
      this.scheduler,
      this.cluster,
      Math.max(100, electionTimeoutMs(this.scenario)),
      (nodes) => probeRandom.pick(nodes),
      (text) => this.timeline.note(text),
    );
    this.probe = probe;
    probe.start();
    this.runUntil(this.scheduler.nowMs() + this.livenessBoundMs, () => probe.satisfied());
    probe.stop();
    if (this.failure !== null) return;
    if (probe.satisfied()) {
      this.livenessMs = this.scheduler.nowMs() - probe.startedAtMs;
      return;
    }
    this.failure = {
      invariant: "liveness",
      message: `no progress within ${this.livenessBoundMs} ms of healing: ${probe.describe()}`,
      atMs: this.scheduler.nowMs(),
    };
  }

  /** What the clients saw must be linearizable. */
  checkClientHistories(): void {
    if (this.failure !== null) return;
    this.linearizability = checkHistories(this.registers.operations(), this.logs.operations());
    if (this.linearizability.verdict === "not-linearizable") {
      this.failure = {
        invariant: "linearizability",
        message: this.linearizability.description,
        atMs: this.scheduler.nowMs(),
      };
    }
  }

  result(): SimulationResult {
    return {
      options: this.options,
      scenario: this.scenario,
      failure: this.failure,
      eventsRun: this.scheduler.eventsRunTotal,
      virtualMs: this.scheduler.nowMs(),
      fingerprint: this.raftNetwork.fingerprint(),
      statistics: {
        clients: this.clientStatistics,
        cluster: this.cluster.statistics,
        chaos: this.chaos.statistics,
        network: this.raftNetwork.statistics(),
        committedIndex: this.monitor.committedIndex,
        leaderTerms: this.monitor.leaderTerms,
        livenessMs: this.livenessMs,
        linearizability: this.linearizability,
      },
      timeline: this.timeline.entries(),
      networkTrace: this.options.trace ? this.raftNetwork.trace().map(formatTraceEvent) : [],
    };
  }

  private createClients(): void {
    const clientRandom = this.root.fork("clients");
    for (let i = 1; i <= this.scenario.clients; i++) {
      const environment = {
        scheduler: this.scheduler,
        network: this.clientNetwork,
        scenario: this.scenario,
        registers: this.registers,
        logs: this.logs,
        members: () => this.cluster.members(),
      };
      const name = `c${i}`;
      this.clients.push(
        new SimulatedClient(name, environment, clientRandom.fork(name), this.clientStatistics),
      );
    }
  }

  /**
   * Runs until `untilMs` or `done()`, in slices so `done` is checked often;
   * a violation thrown by any event becomes the run's failure.
   */
  private runUntil(untilMs: number, done: () => boolean = () => false): void {
    const sliceMs = 50;
    const scheduler = this.scheduler;
    while (this.failure === null && scheduler.nowMs() < untilMs && !done()) {
      const target = Math.min(untilMs, scheduler.nowMs() + sliceMs);
      try {
        const remaining = Math.max(0, this.eventsMax - scheduler.eventsRunTotal);
        if (scheduler.runUntil(target, remaining).stoppedBecause === "event-limit") {
          this.failure = {
            invariant: "event budget",
            message: `more than ${this.eventsMax} events: a livelock, or a message storm`,
            atMs: scheduler.nowMs(),
          };
        }
      } catch (error) {
        this.failure = describeError(error, scheduler.nowMs());
      }
    }
  }
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
