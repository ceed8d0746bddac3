/**
 * A minimal in-process cluster for unit tests (the role of etcd's `network`
 * helper in raft_test.go): RawNodes on MemoryStorage, driven through the
 * documented caller loop, with a message queue the test controls.
 */
import {
  type ConfChange,
  type ConfState,
  EMPTY_CONF_STATE,
  type Entry,
  MemoryStorage,
  type Message,
  type NodeId,
  nodeId,
  type RaftConfig,
  type RandomSource,
  RawNode,
} from "../../src/index.ts";

export interface ClusterNode {
  readonly id: NodeId;
  rawNode: RawNode;
  readonly storage: MemoryStorage;
  readonly config: RaftConfig;
  /** Every entry this node applied, in order. */
  readonly applied: Entry[];
  confState: ConfState;
}

export type ClusterOptions = Partial<Omit<RaftConfig, "id" | "storage">>;

const fixedRandom: RandomSource = { nextInt: () => 0 };

export class Cluster {
  readonly nodes = new Map<NodeId, ClusterNode>();
  queue: Message[] = [];
  /** Returns false to drop a message in flight. */
  filter: (message: Message) => boolean = () => true;

  /** Nodes named 1..count, all voters, bootstrapped from a snapshot at index 1. */
  static ofSize(count: number, options: ClusterOptions = {}): Cluster {
    const ids = Array.from({ length: count }, (_, i) => nodeId(String(i + 1)));
    const cluster = new Cluster();
    const confState = { ...EMPTY_CONF_STATE, voters: ids };
    for (const id of ids) cluster.add(id, confState, options);
    return cluster;
  }

  add(id: NodeId, confState: ConfState, options: ClusterOptions = {}): ClusterNode {
    const storage = new MemoryStorage();
    if (confState.voters.length > 0) {
      storage.applySnapshot({ metadata: { index: 1, term: 1, confState }, data: new Uint8Array() });
    }
    const config: RaftConfig = {
      id,
      storage,
      random: fixedRandom,
      electionTimeoutTicks: 10,
      heartbeatIntervalTicks: 1,
      ...options,
    };
    const node: ClusterNode = {
      id,
      rawNode: new RawNode(config),
      storage,
      config,
      applied: [],
      confState,
    };
    this.nodes.set(id, node);
    return node;
  }

  node(id: string): ClusterNode {
    const node = this.nodes.get(nodeId(id));
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** One pass of the caller's loop on `id`: persist, send, apply, advance. */
  handleReady(id: NodeId): boolean {
    const node = this.nodes.get(id);
    if (node === undefined || !node.rawNode.hasReady()) return false;
    const ready = node.rawNode.ready();
    this.queue.push(...ready.earlyMessages);
    if (ready.hardState !== null) node.storage.setHardState(ready.hardState);
    if (ready.snapshot !== null) {
      node.storage.applySnapshot(ready.snapshot);
      node.confState = ready.snapshot.metadata.confState;
      node.applied.length = 0;
      node.applied.push(...decodeApplied(ready.snapshot.data));
    }
    node.storage.append(ready.entries);
    this.queue.push(...ready.messages);
    for (const entry of ready.committedEntries) {
      node.applied.push(entry);
      if (entry.type === "confChange") node.confState = node.rawNode.applyConfChange(entry.change);
    }
    node.rawNode.advance();
    return true;
  }

  /** Runs Ready handling and delivery until nothing moves. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const id of this.nodes.keys()) moved = this.handleReady(id) || moved;
      if (this.queue.length > 0) {
        moved = true;
        const batch = this.queue;
        this.queue = [];
        for (const message of batch) this.deliver(message);
      }
      if (!moved) return;
    }
    throw new Error("cluster did not stabilize");
  }

  deliver(message: Message): void {
    if (!this.filter(message)) return;
    this.nodes.get(message.to)?.rawNode.step(message);
  }

  /** Drops every message between the two sides, in both directions. */
  isolate(id: string): void {
    this.filter = (m) => m.from !== id && m.to !== id;
  }

  heal(): void {
    this.filter = () => true;
  }

  tick(id: string, count = 1): void {
    for (let i = 0; i < count; i++) this.node(id).rawNode.tick();
  }

  /** Campaigns on `id` and stabilizes; returns the leader's id afterwards, if any. */
  elect(id: string): void {
    this.node(id).rawNode.campaign();
    this.stabilize();
  }

  leaders(): NodeId[] {
    return [...this.nodes.values()]
      .filter((n) => n.rawNode.status().softState.role === "leader")
      .map((n) => n.id);
  }

  /** The normal entries a node applied, as strings (empty leader entries left out). */
  appliedData(id: string): string[] {
    const decoder = new TextDecoder();
    return this.node(id)
      .applied.filter((e) => e.type === "normal" && e.data.byteLength > 0)
      .map((e) => (e.type === "normal" ? decoder.decode(e.data) : ""));
  }

  /** Snapshots the node's applied state at its last applied index and compacts its log there. */
  compact(id: string): void {
    const node = this.node(id);
    const last = node.applied[node.applied.length - 1];
    if (last === undefined || last.index <= node.storage.snapshot().metadata.index) return;
    node.storage.createSnapshot(last.index, node.confState, encodeApplied(node.applied));
    node.storage.compact(last.index);
  }

  /**
   * A crash and restart: volatile state is lost; the state machine is rebuilt
   * from the stored snapshot and the committed entries after it are applied
   * again (as etcd applications do), so `applied` is the snapshot index.
   */
  restart(id: string): void {
    const node = this.node(id);
    const snapshot = node.storage.snapshot();
    node.applied.length = 0;
    node.applied.push(...decodeApplied(snapshot.data));
    node.confState = snapshot.metadata.confState;
    node.rawNode = new RawNode({ ...node.config, applied: snapshot.metadata.index });
  }
}

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Snapshot data of the test state machine: the applied entries themselves. */
function encodeApplied(entries: readonly Entry[]): Uint8Array {
  const plain = entries.map((e) =>
    e.type === "normal"
      ? { type: e.type, index: e.index, term: e.term, data: [...e.data] }
      : { ...e, change: { ...e.change, context: [...e.change.context] } },
  );
  return encode(JSON.stringify(plain));
}

type PlainEntry =
  | { type: "normal"; index: number; term: number; data: number[] }
  | {
      type: "confChange";
      index: number;
      term: number;
      change: Omit<ConfChange, "context"> & { context: number[] };
    };

function decodeApplied(data: Uint8Array): Entry[] {
  if (data.byteLength === 0) return [];
  const plain = JSON.parse(new TextDecoder().decode(data)) as PlainEntry[];
  return plain.map((e) =>
    e.type === "normal"
      ? { ...e, data: new Uint8Array(e.data) }
      : { ...e, change: { ...e.change, context: new Uint8Array(e.change.context) } },
  );
}
