/**
 * The CPU that idle groups cost: `groups` three-node groups, every replica
 * in this one process (so the figure covers the three servers' replicas
 * together; one server pays about a third), messages handed over directly,
 * ticked by a real timer at `tickMs`. After the groups have elected and
 * settled, the process's CPU time (process.cpuUsage) over a wall-clock window
 * is the figure, as a percentage of one core.
 *
 * The driver does what a multi-group server does: it ticks only the nodes
 * that are awake (a quiet node ignores ticks, so the caller may skip them),
 * and handles Readies only for the groups that got work.
 */

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  EMPTY_BYTES,
  EMPTY_CONF_STATE,
  MemoryStorage,
  type Message,
  type NodeId,
  nodeId,
  RawNode,
} from "@parley/raft";

export interface IdleGroupsOptions {
  readonly groups: number;
  readonly quiesce: boolean;
  readonly tickMs: number;
  /** Wall-clock time the groups get to settle (elect, then go quiet) before measuring. */
  readonly settleMs: number;
  readonly windowMs: number;
  readonly rounds: number;
}

export interface IdleGroupsResult {
  /** CPU use in each measured window, % of one core. */
  readonly cpuPercent: readonly number[];
  /** Nodes awake (not quiesced) at the end. */
  readonly awakeNodes: number;
  /** Heap bytes per group (three replicas) after a full collection; null if none could be forced. */
  readonly heapBytesPerGroup: number | null;
}

const ids: readonly NodeId[] = [nodeId("a"), nodeId("b"), nodeId("c")];
const confState = { ...EMPTY_CONF_STATE, voters: ids };
/** Bound on Ready/delivery passes per group per tick; an idle group needs two or three. */
const PASSES_PER_GROUP_MAX = 100;

class Group {
  readonly nodes = new Map<NodeId, RawNode>();
  readonly storages = new Map<NodeId, MemoryStorage>();
  queue: Message[] = [];

  constructor(quiesce: boolean) {
    for (const id of ids) {
      const storage = new MemoryStorage();
      storage.applySnapshot({ metadata: { index: 1, term: 1, confState }, data: EMPTY_BYTES });
      this.nodes.set(
        id,
        new RawNode({
          id,
          storage,
          random: { nextInt: (max) => Math.floor(Math.random() * max) },
          quiesce,
        }),
      );
      this.storages.set(id, storage);
    }
  }

  /** Handles Readies and delivers messages until the group is still (bounded). */
  settle(): void {
    for (let pass = 0; pass < PASSES_PER_GROUP_MAX; pass++) {
      let moved = false;
      for (const [id, node] of this.nodes) {
        if (!node.hasReady()) continue;
        moved = true;
        const ready = node.ready();
        const storage = this.storages.get(id);
        if (storage !== undefined) {
          if (ready.snapshot !== null) storage.applySnapshot(ready.snapshot);
          storage.append(ready.entries);
          if (ready.hardState !== null) storage.setHardState(ready.hardState);
        }
        for (const message of ready.earlyMessages) this.queue.push(message);
        for (const message of ready.messages) this.queue.push(message);
        node.advance();
      }
      if (this.queue.length > 0) {
        moved = true;
        const batch = this.queue;
        this.queue = [];
        for (const message of batch) this.nodes.get(message.to)?.step(message);
      }
      if (!moved) return;
    }
  }

  /** Ticks the awake nodes; returns whether any node is still awake. */
  tick(): boolean {
    let awake = false;
    for (const node of this.nodes.values()) {
      if (node.isQuiesced()) continue;
      node.tick();
      awake = true;
    }
    if (awake) this.settle();
    return awake;
  }
}

/**
 * A function forcing a full garbage collection, so heap figures count live
 * objects only; null where V8 refuses. (--expose-gc cannot be passed to a
 * benchmark run through tsx, but V8 honours it for contexts created later.)
 */
function garbageCollector(): (() => void) | null {
  try {
    setFlagsFromString("--expose-gc");
    const collect: unknown = runInNewContext("gc");
    return typeof collect === "function" ? () => collect() : null;
  } catch {
    return null;
  }
}

export async function measureIdleGroups(options: IdleGroupsOptions): Promise<IdleGroupsResult> {
  const collect = garbageCollector();
  collect?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const groups: Group[] = [];
  for (let i = 0; i < options.groups; i++) {
    const group = new Group(options.quiesce);
    group.nodes.get(ids[0] as NodeId)?.campaign();
    group.settle();
    groups.push(group);
  }
  collect?.();
  const heapBytesPerGroup =
    collect === null ? null : (process.memoryUsage().heapUsed - heapBefore) / options.groups;
  // Groups with an awake node; a quiet group leaves the set and rejoins never
  // (nothing wakes an idle group here: no proposals, no liveness changes).
  const awake = new Set(groups);
  const ticker = setInterval(() => {
    for (const group of awake) if (!group.tick()) awake.delete(group);
  }, options.tickMs);
  try {
    await sleep(options.settleMs);
    const cpuPercent: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const cpuBefore = process.cpuUsage();
      const wallBefore = performance.now();
      await sleep(options.windowMs);
      const cpu = process.cpuUsage(cpuBefore);
      const wallMs = performance.now() - wallBefore;
      cpuPercent.push(((cpu.user + cpu.system) / 1000 / wallMs) * 100);
    }
    let awakeNodes = 0;
    for (const group of groups) {
      for (const node of group.nodes.values()) if (!node.isQuiesced()) awakeNodes++;
    }
    return { cpuPercent, awakeNodes, heapBytesPerGroup };
  } finally {
    clearInterval(ticker);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
