/**
 * One Raft group with every node in this process: RawNodes on MemoryStorage,
 * messages handed over directly, no clock. What it measures is the CPU cost
 * of the core itself (plus MemoryStorage), with nothing to wait for.
 *
 * Each pass of `run` handles the Ready of every node that has one (persist to
 * MemoryStorage, queue the messages, apply, advance), then delivers every
 * queued message. Messages that arrive together are batched by the core as
 * they would be by a server's event loop.
 */
import {
  EMPTY_BYTES,
  EMPTY_CONF_STATE,
  MemoryStorage,
  type Message,
  type NodeId,
  nodeId,
  type RaftConfig,
  type RaftRole,
  RawNode,
} from "@parley/raft";
import { LoadGenerator, type LoadOptions, type LoadResult } from "./load.ts";

interface GroupNode {
  readonly id: NodeId;
  readonly rawNode: RawNode;
  readonly storage: MemoryStorage;
  applied: number;
  /** From the Readies' soft state: status() builds a progress map, too dear per Ready. */
  role: RaftRole;
}

/** Compact a node's storage once this many applied entries sit in its log... */
const COMPACT_AFTER_ENTRIES = 20_000;
/** ...keeping this many, so followers a little behind still catch up from the log. */
const COMPACT_KEEP_ENTRIES = 5_000;

export class InProcessGroup {
  private readonly nodes = new Map<NodeId, GroupNode>();
  private queue: Message[] = [];
  private load: LoadGenerator | null = null;
  private readonly confState;

  constructor(size: number, options: Partial<Omit<RaftConfig, "id" | "storage">> = {}) {
    const ids = Array.from({ length: size }, (_, i) => nodeId(`n${i + 1}`));
    this.confState = { ...EMPTY_CONF_STATE, voters: ids };
    for (const id of ids) {
      const storage = new MemoryStorage();
      storage.applySnapshot({
        metadata: { index: 1, term: 1, confState: this.confState },
        data: EMPTY_BYTES,
      });
      const rawNode = new RawNode({
        id,
        storage,
        random: { nextInt: (max) => Math.floor(Math.random() * max) },
        ...options,
      });
      this.nodes.set(id, { id, rawNode, storage, applied: 1, role: "follower" });
    }
  }

  private get leader(): GroupNode {
    for (const node of this.nodes.values()) {
      if (node.role === "leader") return node;
    }
    throw new Error("the group has no leader");
  }

  /** Elects the first node. */
  elect(): void {
    const first = this.nodes.values().next().value;
    if (first === undefined) throw new Error("empty group");
    first.rawNode.campaign();
    for (let pass = 0; pass < 1_000 && this.pass(); pass++) {}
    if (first.role !== "leader") throw new Error("election failed");
  }

  /** Runs one load to completion; `run` tells this run's entries from earlier ones'. */
  run(options: LoadOptions, run: number): LoadResult {
    const leader = this.leader;
    const load = new LoadGenerator(
      options,
      (data) => leader.rawNode.propose(data).status === "appended",
      run,
    );
    this.load = load;
    load.start();
    // Bounded twice: by the generator's own deadline, and by a pass count.
    for (let pass = 0; pass < 100_000_000 && !load.finished; pass++) {
      this.pass();
      load.pump();
    }
    this.load = null;
    return load.result();
  }

  /** One pass: every node's Ready, then every queued message. Returns whether anything moved. */
  private pass(): boolean {
    let moved = false;
    for (const node of this.nodes.values()) {
      if (node.rawNode.hasReady()) {
        this.handleReady(node);
        moved = true;
      }
    }
    if (this.queue.length === 0) return moved;
    const batch = this.queue;
    this.queue = [];
    for (const message of batch) this.nodes.get(message.to)?.rawNode.step(message);
    return true;
  }

  private handleReady(node: GroupNode): void {
    const ready = node.rawNode.ready();
    if (ready.snapshot !== null) node.storage.applySnapshot(ready.snapshot);
    node.storage.append(ready.entries);
    if (ready.hardState !== null) node.storage.setHardState(ready.hardState);
    for (const message of ready.earlyMessages) this.queue.push(message);
    for (const message of ready.messages) this.queue.push(message);
    if (ready.softState !== null) node.role = ready.softState.role;
    for (const entry of ready.committedEntries) {
      if (entry.type === "normal" && node.role === "leader") this.load?.applied(entry.data);
      node.applied = entry.index;
    }
    node.rawNode.advance();
    this.maybeCompact(node);
  }

  /** Keeps MemoryStorage small, as a server would by snapshotting. */
  private maybeCompact(node: GroupNode): void {
    const snapshotIndex = node.storage.snapshot().metadata.index;
    if (node.applied - snapshotIndex < COMPACT_AFTER_ENTRIES) return;
    const index = node.applied - COMPACT_KEEP_ENTRIES;
    node.storage.createSnapshot(index, this.confState, EMPTY_BYTES);
    node.storage.compact(index);
  }
}
