import { networkPacketsInFlightMax, networkTraceEventsDefault } from "../limits.ts";
import { ensure, SimulationMisuseError } from "../misuse.ts";
import type { Random } from "../random/random.ts";
import type { SimulatedScheduler } from "../time/scheduler.ts";
import { type FaultProfile, sampleDelayMs, validateFaultProfile } from "./faults.ts";
import { type EndpointId, LinkFaults, type PartitionId } from "./links.ts";
import { NetworkTrace, type NetworkTraceEvent } from "./trace.ts";

/** Which copy of a send a delivered packet is. */
export type PacketCopy = "original" | "duplicate" | "replay";

export interface Packet<Payload> {
  /** One id per `send`; duplicates and replays carry the id of the send they copy. */
  readonly id: number;
  readonly from: EndpointId;
  readonly to: EndpointId;
  readonly payload: Payload;
  readonly sentAtMs: number;
  readonly copy: PacketCopy;
}

/** Why a packet was dropped. */
export type DropReason = "loss" | "partition" | "one-way-partition" | "node-down" | "capacity";

export const dropReasons: readonly DropReason[] = [
  "loss",
  "partition",
  "one-way-partition",
  "node-down",
  "capacity",
];

/** A drop's trace detail per copy and reason, made once: a fresh text per drop costs more to fingerprint. */
const dropDetails: Record<PacketCopy, Record<DropReason, string>> = {
  original: dropDetailsOf("original"),
  duplicate: dropDetailsOf("duplicate"),
  replay: dropDetailsOf("replay"),
};

function dropDetailsOf(copy: PacketCopy): Record<DropReason, string> {
  return {
    loss: `${copy} loss`,
    partition: `${copy} partition`,
    "one-way-partition": `${copy} one-way-partition`,
    "node-down": `${copy} node-down`,
    capacity: `${copy} capacity`,
  };
}

/**
 * Counters since creation. Every packet that entered the network (a send, a
 * duplicate or a replay) is delivered, dropped or still in flight:
 * sent + duplicated + replayed = delivered + Σ dropped + inFlight.
 */
export interface NetworkStatistics {
  readonly sent: number;
  readonly duplicated: number;
  readonly replayed: number;
  readonly delivered: number;
  /** Times a packet reached a clogged link and was held back (a packet may be held more than once). */
  readonly heldByClog: number;
  readonly inFlight: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
}

/** Called, inside a scheduler event, with each packet that reaches its endpoint. */
export type Receiver<Payload> = (packet: Packet<Payload>) => void;

export interface NetworkOptions<Payload> {
  readonly scheduler: SimulatedScheduler;
  /** The network's own stream; fork it from the run's root (`root.fork("network")`). */
  readonly random: Random;
  readonly faults: FaultProfile;
  /**
   * Copies a payload for a duplicate or replay. Without it the same object is
   * delivered twice, which is only correct if payloads are never mutated after
   * `send` (by sender or receiver). Pass `structuredClone` when unsure.
   */
  readonly clonePayload?: (payload: Payload) => Payload;
  /** A short text for traces and the fingerprint, e.g. the message type and term. */
  readonly describePayload?: (payload: Payload) => string;
  /**
   * A number standing for the payload in the fingerprint (e.g. from the
   * message type and term). With it, `describePayload` is only called for
   * trace events that are kept: building a text for every packet sent is
   * costly in a simulator that runs many seeds.
   */
  readonly fingerprintPayload?: (payload: Payload) => number;
  /** Most recent trace events kept; 0 keeps none (the fingerprint still covers all). */
  readonly traceEventsKept?: number;
  /** Packets in flight before new ones are dropped for "capacity". */
  readonly packetsInFlightMax?: number;
}

/**
 * A simulated network between named endpoints, driven by a `SimulatedScheduler`.
 *
 * `send` never delivers synchronously: the packet reaches its receiver in a
 * later scheduler event, after a random delay, unless a fault intervenes.
 * Faults, by the name used in statistics and traces: delay (with long tails),
 * loss, duplication, replay, reordering (from independent delays),
 * partition, one-way-partition, clog, node-down, capacity. Rates come from
 * the `FaultProfile`; partitions, clogs and downed nodes are set here by hand
 * or by a `Nemesis`. Partitions and downed nodes are checked both when a
 * packet is sent and when it arrives, so no packet crosses a partition while
 * it stands. A packet that arrives at a clogged direction waits for the clog's
 * end and is then delivered.
 *
 * Everything random is drawn from `options.random`, in an order fixed by the
 * order of calls, so a seed replays the same trace.
 */
export class SimulatedNetwork<Payload> {
  private readonly scheduler: SimulatedScheduler;
  private readonly random: Random;
  private readonly clonePayload: (payload: Payload) => Payload;
  private readonly describePayload: ((payload: Payload) => string) | undefined;
  private readonly fingerprintPayload: ((payload: Payload) => number) | undefined;
  private readonly packetsInFlightMax: number;
  private readonly receivers = new Map<EndpointId, Receiver<Payload>>();
  private readonly links = new LinkFaults();
  private readonly traceLog: NetworkTrace;
  private profile: FaultProfile;
  private nextPacketId = 1;
  private counts = {
    sent: 0,
    duplicated: 0,
    replayed: 0,
    delivered: 0,
    heldByClog: 0,
    inFlight: 0,
  };
  private readonly dropped: Record<DropReason, number> = {
    loss: 0,
    partition: 0,
    "one-way-partition": 0,
    "node-down": 0,
    capacity: 0,
  };

  constructor(options: NetworkOptions<Payload>) {
    validateFaultProfile(options.faults);
    this.scheduler = options.scheduler;
    this.random = options.random;
    this.profile = options.faults;
    this.clonePayload = options.clonePayload ?? ((payload) => payload);
    this.describePayload = options.describePayload;
    this.fingerprintPayload = options.fingerprintPayload;
    this.packetsInFlightMax = options.packetsInFlightMax ?? networkPacketsInFlightMax;
    ensure(
      Number.isSafeInteger(this.packetsInFlightMax) &&
        this.packetsInFlightMax >= 1 &&
        this.packetsInFlightMax <= networkPacketsInFlightMax,
      `packetsInFlightMax must be an integer in [1, ${networkPacketsInFlightMax}]`,
    );
    this.traceLog = new NetworkTrace(options.traceEventsKept ?? networkTraceEventsDefault);
  }

  /** Adds an endpoint, or replaces its receiver (a restarted node registers again). */
  register(id: EndpointId, receiver: Receiver<Payload>): void {
    this.receivers.set(id, receiver);
  }

  /** Registered endpoints, in registration order. */
  endpoints(): EndpointId[] {
    return [...this.receivers.keys()];
  }

  get faults(): FaultProfile {
    return this.profile;
  }

  /** Switches fault rates from now on (packets already in flight keep their fate). */
  setFaults(profile: FaultProfile): void {
    validateFaultProfile(profile);
    this.profile = profile;
  }

  /** Sends `payload` from → to. Both must be registered; an endpoint may send to itself. */
  send(from: EndpointId, to: EndpointId, payload: Payload): void {
    // Checked without building the message first: this runs for every packet.
    if (!this.receivers.has(from)) {
      throw new SimulationMisuseError(`send from unregistered endpoint "${from}"`);
    }
    if (!this.receivers.has(to)) {
      throw new SimulationMisuseError(`send to unregistered endpoint "${to}"`);
    }
    const sentAtMs = this.scheduler.nowMs();
    const original: Packet<Payload> = {
      id: this.nextPacketId,
      from,
      to,
      payload,
      sentAtMs,
      copy: "original",
    };
    this.nextPacketId += 1;
    this.counts.sent += 1;
    this.recordSend(original);
    // A downed sender's packet is dropped: a crashed node's last effects must not escape.
    const block = this.links.isDown(from) ? "node-down" : this.links.block(from, to);
    if (block !== undefined) {
      this.drop(original, block);
      return;
    }
    if (this.random.chance(this.profile.lossProbability)) {
      this.drop(original, "loss");
      return;
    }
    this.launch(original, sampleDelayMs(this.random, this.profile));
    if (this.random.chance(this.profile.duplicationProbability)) {
      this.counts.duplicated += 1;
      const duplicate = {
        ...original,
        payload: this.clonePayload(payload),
        copy: "duplicate" as const,
      };
      this.launch(duplicate, sampleDelayMs(this.random, this.profile));
    }
    if (this.random.chance(this.profile.replayProbability)) {
      this.counts.replayed += 1;
      const replay = { ...original, payload: this.clonePayload(payload), copy: "replay" as const };
      const delayMs = this.random.integerBetween(
        this.profile.replayDelayMsMin,
        this.profile.replayDelayMsMax,
      );
      this.launch(replay, delayMs);
    }
  }

  /**
   * Cuts `sideA` from `sideB` in both directions; `sideB` defaults to every
   * other registered endpoint. Lasts until removed or healed.
   */
  partition(sideA: readonly EndpointId[], sideB?: readonly EndpointId[]): PartitionId {
    const other = sideB ?? this.complement(sideA);
    const id = this.links.addPartition(sideA, other, "both-ways");
    this.recordLinkEvent("partition", `${sideA.join(",")} | ${other.join(",")}`);
    return id;
  }

  /** Drops packets from `senders` to `receivers`; the reverse direction still works. */
  partitionOneWay(senders: readonly EndpointId[], receivers: readonly EndpointId[]): PartitionId {
    const id = this.links.addPartition(senders, receivers, "one-way");
    this.recordLinkEvent("partition", `${senders.join(",")} → ${receivers.join(",")} one-way`);
    return id;
  }

  /** Removes one partition; answers whether it was still active. */
  removePartition(id: PartitionId): boolean {
    const removed = this.links.removePartition(id);
    if (removed) {
      this.recordLinkEvent("partition-removed", String(id));
    }
    return removed;
  }

  /** Holds packets arriving on from → to for `durationMs`, then delivers them. */
  clog(from: EndpointId, to: EndpointId, durationMs: number): void {
    ensure(
      Number.isSafeInteger(durationMs) && durationMs >= 1,
      "clog duration must be whole ms ≥ 1",
    );
    const nowMs = this.scheduler.nowMs();
    this.links.addClog(from, to, nowMs + durationMs, nowMs);
    this.traceLog.record({ timeMs: nowMs, kind: "clog", from, to, detail: `${durationMs} ms` });
  }

  /** Marks an endpoint down: packets to it (sent or already in flight) and from it are dropped. */
  takeDown(id: EndpointId): void {
    this.links.takeDown(id);
    this.traceLog.record({ timeMs: this.scheduler.nowMs(), kind: "down", from: id });
  }

  bringUp(id: EndpointId): void {
    this.links.bringUp(id);
    this.traceLog.record({ timeMs: this.scheduler.nowMs(), kind: "up", from: id });
  }

  isDown(id: EndpointId): boolean {
    return this.links.isDown(id);
  }

  /**
   * Removes every partition and clog, for a liveness phase. Fault rates and
   * downed endpoints are left alone: call `setFaults(quietFaults)` and restart
   * nodes as the phase requires, and stop the `Nemesis` first.
   */
  heal(): void {
    this.links.heal();
    this.recordLinkEvent("heal", "partitions and clogs removed");
  }

  /** Partitions currently standing (set by hand or by the nemesis). */
  get partitionsActive(): number {
    return this.links.partitionsActive;
  }

  statistics(): NetworkStatistics {
    return { ...this.counts, dropped: { ...this.dropped } };
  }

  /** The most recent trace events, oldest first. */
  trace(): NetworkTraceEvent[] {
    return this.traceLog.events();
  }

  /** A digest of every trace event so far: equal for two runs of the same seed. */
  fingerprint(): string {
    return this.traceLog.fingerprint();
  }

  private launch(packet: Packet<Payload>, delayMs: number): void {
    if (this.counts.inFlight >= this.packetsInFlightMax) {
      this.drop(packet, "capacity");
      return;
    }
    this.counts.inFlight += 1;
    this.scheduler.scheduleAfter(delayMs, () => this.arrive(packet));
  }

  private arrive(packet: Packet<Payload>): void {
    const block = this.links.block(packet.from, packet.to);
    if (block !== undefined) {
      this.counts.inFlight -= 1;
      this.drop(packet, block);
      return;
    }
    const nowMs = this.scheduler.nowMs();
    const clogEndMs = this.links.clogEndMs(packet.from, packet.to, nowMs);
    if (clogEndMs !== undefined) {
      this.counts.heldByClog += 1;
      this.record("hold", packet, `until ${clogEndMs} ms`);
      this.scheduler.scheduleAt(clogEndMs, () => this.arrive(packet));
      return;
    }
    this.counts.inFlight -= 1;
    this.counts.delivered += 1;
    this.record("deliver", packet, packet.copy);
    const receiver = this.receivers.get(packet.to);
    // Endpoints are never unregistered, and send checked `to`.
    if (receiver === undefined) throw new SimulationMisuseError(`no receiver for "${packet.to}"`);
    receiver(packet);
  }

  private drop(packet: Packet<Payload>, reason: DropReason): void {
    this.dropped[reason] += 1;
    this.record("drop", packet, dropDetails[packet.copy][reason]);
  }

  private recordSend(packet: Packet<Payload>): void {
    const fingerprint = this.fingerprintPayload;
    if (fingerprint === undefined) {
      this.record("send", packet, this.describe(packet.payload));
      return;
    }
    this.traceLog.recordPacketWithWord(
      packet.sentAtMs,
      "send",
      packet.id,
      packet.from,
      packet.to,
      fingerprint(packet.payload),
      this.traceLog.keeping ? this.describe(packet.payload) : undefined,
    );
  }

  private complement(side: readonly EndpointId[]): EndpointId[] {
    const excluded = new Set(side);
    return this.endpoints().filter((id) => !excluded.has(id));
  }

  private describe(payload: Payload): string | undefined {
    return this.describePayload === undefined ? undefined : this.describePayload(payload);
  }

  private record(
    kind: "send" | "deliver" | "drop" | "hold",
    packet: Packet<Payload>,
    detail?: string,
  ): void {
    this.traceLog.recordPacket(
      this.scheduler.nowMs(),
      kind,
      packet.id,
      packet.from,
      packet.to,
      detail,
    );
  }

  private recordLinkEvent(kind: "partition" | "partition-removed" | "heal", detail: string): void {
    this.traceLog.record({ timeMs: this.scheduler.nowMs(), kind, detail });
  }
}
