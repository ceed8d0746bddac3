import { networkClogsActiveMax, networkPartitionsActiveMax } from "../limits.ts";
import { ensure } from "../misuse.ts";

/** An endpoint's opaque name: a homeserver, a Raft node, a client. */
export type EndpointId = string;

/** Names one partition, for `removePartition`. */
export type PartitionId = number & { readonly partitionIdBrand: unique symbol };

/** A partition cuts both directions, or only senders → receivers. */
export type PartitionDirection = "both-ways" | "one-way";

/** Why a link refuses a packet. */
export type LinkBlock = "partition" | "one-way-partition" | "node-down";

interface Partition {
  readonly id: PartitionId;
  readonly senders: ReadonlySet<EndpointId>;
  readonly receivers: ReadonlySet<EndpointId>;
  /** A symmetric partition also blocks receivers → senders. */
  readonly symmetric: boolean;
}

interface Clog {
  readonly from: EndpointId;
  readonly to: EndpointId;
  readonly untilMs: number;
}

/**
 * The state of the links between endpoints: which are cut by partitions, which
 * are clogged until when, and which endpoints are down. Pure bookkeeping; the
 * network asks it about each packet.
 */
export class LinkFaults {
  private partitions: Partition[] = [];
  private clogs: Clog[] = [];
  private readonly down = new Set<EndpointId>();
  private nextPartitionId = 1;

  addPartition(
    senders: readonly EndpointId[],
    receivers: readonly EndpointId[],
    direction: PartitionDirection,
  ): PartitionId {
    ensure(senders.length > 0 && receivers.length > 0, "a partition needs two non-empty sides");
    const senderSet = new Set(senders);
    ensure(
      receivers.every((receiver) => !senderSet.has(receiver)),
      "an endpoint cannot be on both sides of a partition",
    );
    ensure(
      this.partitions.length < networkPartitionsActiveMax,
      `at most ${networkPartitionsActiveMax} partitions may be active`,
    );
    const id = this.nextPartitionId as PartitionId;
    this.nextPartitionId += 1;
    this.partitions.push({
      id,
      senders: senderSet,
      receivers: new Set(receivers),
      symmetric: direction === "both-ways",
    });
    return id;
  }

  removePartition(id: PartitionId): boolean {
    const before = this.partitions.length;
    this.partitions = this.partitions.filter((partition) => partition.id !== id);
    return this.partitions.length < before;
  }

  get partitionsActive(): number {
    return this.partitions.length;
  }

  /** Holds packets from → to until `untilMs`; a longer clog of the same direction wins. */
  addClog(from: EndpointId, to: EndpointId, untilMs: number, nowMs: number): void {
    this.clogs = this.clogs.filter((clog) => clog.untilMs > nowMs);
    ensure(
      this.clogs.length < networkClogsActiveMax,
      `at most ${networkClogsActiveMax} clogs may be active`,
    );
    this.clogs.push({ from, to, untilMs });
  }

  /** When the direction from → to unclogs, or undefined if it is not clogged at `nowMs`. */
  clogEndMs(from: EndpointId, to: EndpointId, nowMs: number): number | undefined {
    let endMs: number | undefined;
    for (const clog of this.clogs) {
      if (clog.from === from && clog.to === to && clog.untilMs > nowMs) {
        endMs = Math.max(endMs ?? 0, clog.untilMs);
      }
    }
    return endMs;
  }

  takeDown(id: EndpointId): void {
    this.down.add(id);
  }

  bringUp(id: EndpointId): void {
    this.down.delete(id);
  }

  isDown(id: EndpointId): boolean {
    return this.down.has(id);
  }

  /** Why a packet from → to cannot cross right now, or undefined if it can. */
  block(from: EndpointId, to: EndpointId): LinkBlock | undefined {
    if (this.down.has(to)) {
      return "node-down";
    }
    for (const partition of this.partitions) {
      if (partition.senders.has(from) && partition.receivers.has(to)) {
        return partition.symmetric ? "partition" : "one-way-partition";
      }
      if (partition.symmetric && partition.receivers.has(from) && partition.senders.has(to)) {
        return "partition";
      }
    }
    return undefined;
  }

  /** Removes every partition and clog. Down endpoints stay down: only the simulator restarts them. */
  heal(): void {
    this.partitions = [];
    this.clogs = [];
  }
}
