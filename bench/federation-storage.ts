/**
 * federation-storage: the homeserver's durable FederationStorage on SQLite
 * (a file, WAL synced at every commit). Reports Raft entries made durable per
 * second through `flush()` when each flush carries one group's write (one
 * fsync per entry) and when it carries many groups' writes (group commit:
 * one transaction and one fsync for all), the flush latency, the memory one
 * stored message costs in the mirror, and how fast `open` loads messages.
 * Every loop is bounded by a count.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parseUserId, type RoomId, roomIdFromBytes } from "@parley/protocol";
import { EMPTY_CONF_STATE, nodeId, type WritableStorage } from "@parley/raft";
import { DatabaseFederationStorage, openStorage, type Storage } from "@parley/server";
import { type Benchmark, type Figure, median, percentile } from "./harness.ts";

interface Scale {
  readonly groups: number;
  readonly roundsPerShape: number;
  readonly groupsPerFlush: readonly number[];
  readonly entryBytes: number;
  readonly messages: number;
  readonly messageBytes: number;
}

const full: Scale = {
  groups: 1_000,
  roundsPerShape: 60,
  groupsPerFlush: [1, 100, 1_000],
  entryBytes: 200,
  messages: 100_000,
  messageBytes: 200,
};

const smoke: Scale = {
  groups: 20,
  roundsPerShape: 3,
  groupsPerFlush: [1, 20],
  entryBytes: 200,
  messages: 500,
  messageBytes: 200,
};

const self = nodeId("bench.example#1");
const sender = parseUserId("alice@bench.example");

function room(index: number): RoomId {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setUint32(0, index);
  return roomIdFromBytes(bytes);
}

/** Opens the federation storage on a migrated SQLite file. */
async function openFederation(path: string): Promise<{
  storage: Storage;
  federation: DatabaseFederationStorage;
}> {
  const storage = await openStorage({ kind: "sqlite", path });
  await storage.migrations.migrateToLatest();
  return { storage, federation: await DatabaseFederationStorage.open(storage.database) };
}

async function measureGroupCommit(
  federation: DatabaseFederationStorage,
  scale: Scale,
): Promise<Figure[]> {
  const groups: WritableStorage[] = [];
  for (let index = 0; index < scale.groups; index += 1) {
    const group = federation.groups.open(room(index), self);
    group.applySnapshot({
      metadata: { index: 1, term: 1, confState: { ...EMPTY_CONF_STATE, voters: [self] } },
      data: new Uint8Array(64),
    });
    groups.push(group);
  }
  await federation.flush();
  const figures: Figure[] = [];
  const data = new Uint8Array(scale.entryBytes);
  let next = 0;
  for (const perFlush of scale.groupsPerFlush) {
    const rates: number[] = [];
    const latencies: number[] = [];
    for (let round = 0; round < scale.roundsPerShape; round += 1) {
      const start = performance.now();
      for (let count = 0; count < perFlush; count += 1) {
        const group = groups[next % groups.length];
        next += 1;
        if (group === undefined) throw new Error("no group");
        const index = group.lastIndex() + 1;
        group.append([{ type: "normal", index, term: 1, data }]);
        group.setHardState({ term: 1, vote: self, commit: index });
      }
      await federation.flush();
      const elapsedMs = performance.now() - start;
      latencies.push(elapsedMs);
      rates.push((perFlush * 1000) / elapsedMs);
    }
    const label = perFlush === 1 ? "one group per flush" : `${perFlush} groups per flush`;
    figures.push(
      {
        name: `Raft entries durable/s, ${label}`,
        value: median(rates),
        unit: "entries/s",
        note: `${scale.entryBytes}-byte entries plus the hard state; median of ${scale.roundsPerShape} flushes`,
      },
      {
        name: `flush latency p50, ${label}`,
        value: median(latencies),
        unit: "ms",
        note: `p99 ${percentile(latencies, 99).toFixed(1)} ms`,
      },
    );
  }
  return figures;
}

function collectGarbage(): () => void {
  setFlagsFromString("--expose-gc");
  const gc: unknown = runInNewContext("gc");
  if (typeof gc !== "function") return () => {};
  return () => {
    gc();
    gc();
  };
}

/** The JS heap plus array buffers (message bodies live outside the heap). */
function retainedBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

async function measureMessages(path: string, scale: Scale): Promise<Figure[]> {
  const gc = collectGarbage();
  const { storage, federation } = await openFederation(path);
  const target = room(1_000_000);
  const origin = nodeId("origin.example#1");
  gc();
  const before = retainedBytes();
  const store = federation.messages(target);
  for (let sequence = 1; sequence <= scale.messages; sequence += 1) {
    store.put({
      message: {
        room: target,
        origin,
        sequence,
        controlIndex: 1,
        acceptedAtMs: 1_700_000_000_000 + sequence,
        sender,
        clientMessageId: `m${sequence}`,
        body: new Uint8Array(scale.messageBytes),
      },
      verdict: "allowed",
    });
    if (sequence % 10_000 === 0) await federation.flush();
  }
  await federation.flush();
  gc();
  const perMessage = (retainedBytes() - before) / scale.messages;
  await storage.close();
  const start = performance.now();
  const reopened = await openFederation(path);
  const loadMs = performance.now() - start;
  const loaded = reopened.federation.messages(target).size;
  await reopened.storage.close();
  if (loaded !== scale.messages) throw new Error(`loaded ${loaded} of ${scale.messages}`);
  return [
    {
      name: "mirror memory per stored message",
      value: perMessage,
      unit: "bytes",
      note: `${scale.messageBytes}-byte bodies, ${scale.messages} messages in one room: heap and array buffers after GC, body included`,
    },
    {
      name: "open: messages loaded per second",
      value: (scale.messages * 1000) / loadMs,
      unit: "messages/s",
      note: `${scale.messages} messages read back at start`,
    },
  ];
}

export const federationStorageBenchmark: Benchmark = {
  name: "federation-storage",
  description:
    "durable federation storage on SQLite: Raft entries per second through flush (group commit), flush latency, mirror memory per message",
  async run(options) {
    const scale = options.smoke ? smoke : full;
    const directory = await mkdtemp(join(tmpdir(), "parley-bench-federation-"));
    try {
      const path = join(directory, "parley.sqlite");
      const { storage, federation } = await openFederation(path);
      const figures = await measureGroupCommit(federation, scale);
      await storage.close();
      figures.push(...(await measureMessages(path, scale)));
      return figures;
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  },
};
