/**
 * The world of a transcript test (etcd's rafttest.InteractionEnv): a few
 * RawNodes on MemoryStorage, a list of in-flight messages, a trivial
 * "append the payload" state machine per node, and a log buffer. Nodes are
 * named "1", "2", ...; node n lives at index n - 1.
 */
import {
  type ConfState,
  describeMessage,
  describeReady,
  EMPTY_CONF_STATE,
  MemoryStorage,
  type Message,
  type NodeId,
  nodeId,
  type RaftConfig,
  type RaftLogger,
  RawNode,
  type Snapshot,
} from "../../src/index.ts";

export type LogLevel = "debug" | "info" | "warn" | "none";
const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, none: 3 };

/** The applied state of one node: payloads applied so far, and the configuration. */
interface AppliedState {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
  readonly payloads: readonly string[];
}

export interface EnvNode {
  readonly id: NodeId;
  rawNode: RawNode;
  readonly storage: EnvStorage;
  readonly config: RaftConfig;
  /** Applied states by index, so a snapshot can be cut at any applied index. */
  history: AppliedState[];
}

/**
 * Storage whose snapshot() is cut on demand from the node's latest applied
 * state, as a real application does (etcd's snapOverrideStorage): a node
 * joining the group must receive a snapshot whose configuration includes it.
 */
class EnvStorage extends MemoryStorage {
  latest: (() => Snapshot) | null = null;

  override snapshot(): Snapshot {
    return this.latest === null ? super.snapshot() : this.latest();
  }

  /** The snapshot actually stored (what a restart recovers from). */
  storedSnapshot(): Snapshot {
    return super.snapshot();
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class InteractionEnv {
  readonly nodes: EnvNode[] = [];
  messages: Message[] = [];
  /** Links (from->to) whose messages are dropped on delivery. */
  readonly blocked = new Set<string>();
  level: LogLevel = "debug";
  /**
   * What each node's random source answers (clamped below the bound), so the
   * randomized election timeout is electionTimeoutTicks + jitter. Default 0.
   */
  readonly jitter = new Map<string, number>();
  private output: string[] = [];
  private indent = "";

  readonly logger: RaftLogger = {
    debug: (message) => this.log("debug", message),
    info: (message) => this.log("info", message),
    warn: (message) => this.log("warn", message),
  };

  private log(level: LogLevel, message: string): void {
    if (LEVEL_RANK[level] >= LEVEL_RANK[this.level]) {
      this.write(`${level.toUpperCase()} ${message}`);
    }
  }

  /** Writes harness output; suppressed entirely at level "none". */
  write(text: string): void {
    if (this.level === "none") return;
    for (const line of text.split("\n")) this.output.push(this.indent + line);
  }

  takeOutput(): string {
    const text = this.output.join("\n");
    this.output = [];
    return text;
  }

  withIndent(action: () => void): void {
    const previous = this.indent;
    this.indent += "  ";
    try {
      action();
    } finally {
      this.indent = previous;
    }
  }

  node(id: string): EnvNode {
    const node = this.nodes[Number(id) - 1];
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Adds `count` nodes; with `index` > 0 their storage is bootstrapped from a snapshot at it. */
  addNodes(
    count: number,
    confState: ConfState,
    index: number,
    jitter: number,
    options: Partial<RaftConfig>,
  ): void {
    for (let i = 0; i < count; i++) {
      const id = nodeId(String(this.nodes.length + 1));
      this.jitter.set(id, jitter);
      const storage = new EnvStorage();
      const bootstrap: AppliedState = { index, term: index > 0 ? 1 : 0, confState, payloads: [] };
      if (index > 0) storage.applySnapshot(this.snapshotOf(bootstrap));
      const config: RaftConfig = {
        id,
        storage,
        random: { nextInt: (max) => Math.min(this.jitter.get(id) ?? 0, max - 1) },
        electionTimeoutTicks: 3,
        heartbeatIntervalTicks: 1,
        appendMessageBytesMax: Number.POSITIVE_INFINITY,
        uncommittedEntriesBytesMax: Number.POSITIVE_INFINITY,
        inflightMessagesMax: 1_000_000,
        ...options,
        ...(index > 0 ? { applied: index } : {}),
        logger: this.logger,
      };
      const history = index > 0 ? [bootstrap] : [{ ...bootstrap, confState: EMPTY_CONF_STATE }];
      const node: EnvNode = { id, rawNode: new RawNode(config), storage, config, history };
      storage.latest = () => this.snapshotOf(node.history[node.history.length - 1] ?? bootstrap);
      this.nodes.push(node);
    }
  }

  /**
   * Rebuilds a node from its storage, losing all volatile state (a crash and
   * restart). The state machine restarts from the stored snapshot and the
   * committed entries after it are applied again.
   */
  restart(id: string): void {
    const node = this.node(id);
    const applied = node.storage.storedSnapshot().metadata.index;
    node.history = node.history.filter((state) => state.index <= applied);
    node.rawNode = new RawNode({ ...node.config, applied });
  }

  private snapshotOf(state: AppliedState): Snapshot {
    const data = encoder.encode(JSON.stringify(state.payloads));
    return { metadata: { index: state.index, term: state.term, confState: state.confState }, data };
  }

  /** Cuts a snapshot at `index` from the node's applied history and compacts its log to it. */
  compact(id: string, index: number): void {
    const node = this.node(id);
    const state = node.history.find((s) => s.index === index);
    if (state === undefined) throw new Error(`node ${id} has not applied index ${index}`);
    const snapshot = this.snapshotOf(state);
    node.storage.createSnapshot(index, snapshot.metadata.confState, snapshot.data);
    node.storage.compact(index);
  }

  processReady(id: string): void {
    const node = this.node(id);
    const ready = node.rawNode.ready();
    this.write(describeReady(ready));
    // Early messages may leave before the writes below; here all is instant.
    this.messages.push(...ready.earlyMessages);
    if (ready.hardState !== null) node.storage.setHardState(ready.hardState);
    if (ready.snapshot !== null) {
      node.storage.applySnapshot(ready.snapshot);
      const payloads = JSON.parse(decoder.decode(ready.snapshot.data)) as string[];
      const { index, term, confState } = ready.snapshot.metadata;
      node.history.push({ index, term, confState, payloads });
    }
    node.storage.append(ready.entries);
    for (const entry of ready.committedEntries) {
      const last = node.history[node.history.length - 1];
      if (last === undefined) throw new Error("history is never empty");
      let { confState, payloads } = last;
      if (entry.type === "confChange") confState = node.rawNode.applyConfChange(entry.change);
      else if (entry.data.byteLength > 0) payloads = [...payloads, decoder.decode(entry.data)];
      node.history.push({ index: entry.index, term: entry.term, confState, payloads });
    }
    this.messages.push(...ready.messages);
    node.rawNode.advance();
  }

  /** Delivers (or, with `drop`, discards) the in-flight messages addressed to `id`. */
  deliver(id: string, options: { drop?: boolean; type?: string } = {}): number {
    const deliverable = (m: Message) =>
      m.to === id && (options.type === undefined || m.type === options.type);
    const batch = this.messages.filter(deliverable);
    this.messages = this.messages.filter((m) => !deliverable(m));
    for (const message of batch) {
      if (options.drop === true || this.blocked.has(`${message.from}->${message.to}`)) {
        this.write(`dropped: ${describeMessage(message)}`);
        continue;
      }
      this.write(describeMessage(message));
      this.node(id).rawNode.step(message);
    }
    return batch.length;
  }

  /** Handles Readies and delivers messages among `ids` (default all) until nothing moves. */
  stabilize(ids: readonly string[]): void {
    const nodes = ids.length > 0 ? ids.map((id) => this.node(id)) : this.nodes;
    for (let round = 0; ; round++) {
      if (round > 1000) throw new Error("stabilize did not converge");
      let done = true;
      for (const node of nodes) {
        if (!node.rawNode.hasReady()) continue;
        done = false;
        this.write(`> ${node.id} handling Ready`);
        this.withIndent(() => this.processReady(node.id));
      }
      for (const node of nodes) {
        if (!this.messages.some((m) => m.to === node.id)) continue;
        done = false;
        this.write(`> ${node.id} receiving messages`);
        this.withIndent(() => this.deliver(node.id));
      }
      if (done) return;
    }
  }

  /** Blocks every link between the two groups, in both directions. */
  partition(groups: readonly (readonly string[])[]): void {
    for (const [i, a] of groups.entries()) {
      for (const [j, b] of groups.entries()) {
        if (i === j) continue;
        for (const from of a) for (const to of b) this.blocked.add(`${from}->${to}`);
      }
    }
  }
}
