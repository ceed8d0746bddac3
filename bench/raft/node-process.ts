/**
 * One Raft node in its own process, for the loopback benchmark. Started by
 * process-cluster.ts with its options as JSON in argv[2] and an IPC channel
 * for control (control.ts).
 *
 * The caller's loop of the README, on Node's event loop: messages arriving
 * on the sockets are stepped as they come; a Ready is handled once per loop
 * turn (setImmediate), so everything that arrived in one turn is persisted
 * with one write and one fdatasync, then sent (one socket write per peer),
 * then applied, then advanced. With `overlapSync` the fdatasync runs on the
 * thread pool and the loop keeps stepping messages and taking proposals until
 * it completes; without, it blocks the loop and new messages wait in the
 * kernel. Either way, what arrived meanwhile forms the next batch.
 */
import { randomInt } from "node:crypto";
import {
  EMPTY_BYTES,
  EMPTY_CONF_STATE,
  type NodeId,
  nodeId,
  RawNode,
  type Ready,
} from "@parley/raft";
import type { ChildReport, NodeProcessOptions, ParentCommand } from "./control.ts";
import { DurableLog } from "./durable-log.ts";
import { LoadGenerator, loadPayload, payloadSequence } from "./load.ts";
import { PeerTransport } from "./transport.ts";

const PROBE_MARKER = 0x50524f42;
/** Keep MemoryStorage (the copy of the log the core reads) bounded, as a server would. */
const COMPACT_AFTER_ENTRIES = 200_000;
const COMPACT_KEEP_ENTRIES = 100_000;
/** Readies handled per loop turn before yielding to I/O. */
const READIES_PER_TURN_MAX = 64;

const options = JSON.parse(process.argv[2] ?? "{}") as NodeProcessOptions;
const self = nodeId(options.id);
const confState = { ...EMPTY_CONF_STATE, voters: [...options.peers, options.id].map(nodeId) };

const { log, storage } = DurableLog.open(options.logPath);
if (storage.lastIndex() === 0) {
  // A new group: bootstrap from a snapshot listing the voters, persisted first.
  const snapshot = { metadata: { index: 1, term: 1, confState }, data: EMPTY_BYTES };
  log.write({ hardState: null, snapshot, entries: [] }, true);
  storage.applySnapshot(snapshot);
}
const node = new RawNode({
  id: self,
  storage,
  random: { nextInt: (max) => randomInt(max) },
  electionTimeoutTicks: options.electionTimeoutTicks,
  heartbeatIntervalTicks: options.heartbeatIntervalTicks,
});

let role = "follower";
let term = 0;
let applied = 1;
interface RunningLoad {
  readonly generator: LoadGenerator;
  readonly syncsBefore: number;
  readonly syncMsBefore: number;
  readonly sentBefore: number;
}
let load: RunningLoad | null = null;
let probing = false;
let probeProposed = false;
let scheduled = false;
/** True while a Ready's overlapped fdatasync is in flight (no ready() until it is done). */
let persisting = false;

function report(message: ChildReport): void {
  process.send?.(message);
}

const transport = new PeerTransport({
  message: (message) => node.step(message),
  received: () => schedule(),
  liveness: (peer: NodeId, alive: boolean) => {
    node.peerLivenessChanged(peer, alive);
    schedule();
  },
});

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(turn);
}

/**
 * One loop turn: make requests, handle a Ready, and again while there is
 * work (bounded), so that a proposal freed by an apply goes out at once.
 * With `overlapSync`, a Ready that must be synced ends the turn; the rest of
 * it (send, apply, advance) runs when the sync completes.
 */
function turn(): void {
  scheduled = false;
  for (let count = 0; count < READIES_PER_TURN_MAX; count++) {
    load?.generator.pump();
    if (probing && role === "leader" && !probeProposed) {
      probeProposed = node.propose(loadPayload(0, 12, PROBE_MARKER)).status === "appended";
    }
    if (persisting || !node.hasReady()) break;
    const ready = node.ready();
    // The leader's appends leave at once, in parallel with its own write
    // (README, "The caller's loop"); everything else waits for the sync.
    if (options.earlyMessages) {
      for (const peer of transport.send(ready.earlyMessages)) node.reportUnreachable(peer);
    }
    // Persist: one record, one fdatasync for the whole batch.
    if (options.overlapSync && ready.mustSync) {
      persisting = true;
      log.writeOverlapped(ready, () => {
        persisting = false;
        finishReady(ready);
        schedule();
      });
      break;
    }
    log.write(ready, ready.mustSync);
    finishReady(ready);
  }
  if (!persisting && node.hasReady()) schedule();
  finishLoadIfDone();
}

/** The rest of a persisted Ready: store it for the core's reads, send, apply, advance. */
function finishReady(ready: Ready): void {
  if (ready.snapshot !== null) storage.applySnapshot(ready.snapshot);
  storage.append(ready.entries);
  if (ready.hardState !== null) storage.setHardState(ready.hardState);
  const messages = options.earlyMessages
    ? ready.messages
    : [...ready.earlyMessages, ...ready.messages];
  for (const peer of transport.send(messages)) node.reportUnreachable(peer);
  if (ready.softState !== null && ready.softState.role !== role) {
    role = ready.softState.role;
    term = node.status().hardState.term;
    probeProposed = false;
    report({ type: "role", role, term });
  }
  for (const entry of ready.committedEntries) {
    applied = entry.index;
    if (entry.type !== "normal" || role !== "leader") continue;
    load?.generator.applied(entry.data);
    if (probing && payloadSequence(entry.data, PROBE_MARKER) !== null) {
      probing = false;
      report({ type: "probeCommitted", term: entry.term });
    }
  }
  node.advance();
  maybeCompact();
}

function maybeCompact(): void {
  const snapshotIndex = storage.snapshot().metadata.index;
  if (applied - snapshotIndex < COMPACT_AFTER_ENTRIES) return;
  const index = applied - COMPACT_KEEP_ENTRIES;
  storage.createSnapshot(index, confState, EMPTY_BYTES);
  storage.compact(index);
}

function finishLoadIfDone(): void {
  if (load === null || !load.generator.finished) return;
  report({
    type: "loadResult",
    result: load.generator.result(),
    syncs: log.syncCount - load.syncsBefore,
    syncMs: log.syncMs - load.syncMsBefore,
    messagesSent: transport.messagesSent - load.sentBefore,
  });
  load = null;
}

async function command(message: ParentCommand): Promise<void> {
  switch (message.type) {
    case "connect": {
      const ports = new Map<NodeId, number>();
      for (const [id, port] of Object.entries(message.ports)) {
        if (id !== options.id) ports.set(nodeId(id), port);
      }
      await transport.connect(ports);
      report({ type: "connected" });
      return;
    }
    case "campaign":
      node.campaign();
      schedule();
      return;
    case "load":
      if (role !== "leader") {
        report({ type: "loadRefused", reason: `${options.id} is a ${role}` });
        return;
      }
      load = {
        generator: new LoadGenerator(
          message.options,
          (data) => node.propose(data).status === "appended",
          message.run,
        ),
        syncsBefore: log.syncCount,
        syncMsBefore: log.syncMs,
        sentBefore: transport.messagesSent,
      };
      load.generator.start();
      schedule();
      return;
    case "probe":
      probing = true;
      probeProposed = false;
      schedule();
      return;
  }
}

const ticker = setInterval(() => {
  node.tick();
  schedule();
}, options.tickMs);

process.on("message", (message: ParentCommand) => {
  void command(message);
});
// Without the parent there is nobody to stop us: leave.
process.on("disconnect", () => {
  clearInterval(ticker);
  transport.close();
  log.close();
  process.exit(0);
});

report({ type: "listening", port: await transport.listen() });
