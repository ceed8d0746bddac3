import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  EMPTY_BYTES,
  EMPTY_CONF_STATE,
  type Entry,
  MemoryStorage,
  type Message,
  nodeId,
} from "@parley/raft";
import { afterEach, describe, expect, it } from "vitest";
import { Reader } from "./binary.ts";
import { encodeFrames, readMessage } from "./codec.ts";
import { DurableLog, replay } from "./durable-log.ts";
import { FrameSplitter } from "./frames.ts";

const a = nodeId("node-a");
const b = nodeId("nœud-b");
const bytes = (...values: number[]) => new Uint8Array(values);
const entries: Entry[] = [
  { type: "normal", term: 3, index: 2 ** 40, data: bytes(1, 2, 3) },
  {
    type: "confChange",
    term: 4,
    index: 7,
    change: {
      transition: "jointExplicit",
      changes: [
        { type: "addLearner", nodeId: b },
        { type: "removeNode", nodeId: a },
      ],
      context: bytes(9),
    },
  },
];
const confState = { ...EMPTY_CONF_STATE, voters: [a], learners: [b], autoLeave: true };

const messages: Message[] = [
  { type: "append", from: a, to: b, term: 5, prevIndex: 1, prevTerm: 1, entries, commit: 300 },
  {
    type: "appendResponse",
    from: b,
    to: a,
    term: 5,
    index: 9,
    reject: true,
    rejectHintIndex: 4,
    rejectHintTerm: 2,
  },
  { type: "heartbeat", from: a, to: b, term: 5, commit: 3, readRound: 7, quiesce: true },
  { type: "heartbeatResponse", from: b, to: a, term: 5, readRound: 7 },
  { type: "vote", from: a, to: b, term: 6, lastIndex: 9, lastTerm: 5, transfer: true },
  { type: "preVote", from: a, to: b, term: 6, lastIndex: 9, lastTerm: 5, transfer: false },
  { type: "voteResponse", from: b, to: a, term: 6, reject: false },
  { type: "preVoteResponse", from: b, to: a, term: 6, reject: true },
  {
    type: "snapshot",
    from: a,
    to: b,
    term: 6,
    snapshot: { metadata: { index: 10, term: 5, confState }, data: bytes(4, 5) },
  },
  { type: "timeoutNow", from: a, to: b, term: 6 },
  { type: "transferLeader", from: b, to: a, term: 0, transferee: b },
  { type: "propose", from: b, to: a, term: 0, entries: [{ type: "normal", data: EMPTY_BYTES }] },
  { type: "readIndex", from: b, to: a, term: 0, context: bytes(8) },
  { type: "readIndexResponse", from: a, to: b, term: 6, index: 12, context: bytes(8) },
];

describe("the loopback benchmark's codec", () => {
  it("round-trips every message type through frames cut at every byte", () => {
    const encoded = encodeFrames(messages);
    for (const cut of [1, 3, 7, 64, encoded.length]) {
      const splitter = new FrameSplitter();
      const decoded: Message[] = [];
      for (let offset = 0; offset < encoded.length; offset += cut) {
        for (const frame of splitter.push(encoded.subarray(offset, offset + cut))) {
          decoded.push(readMessage(new Reader(frame)));
        }
      }
      expect(decoded).toEqual(messages);
    }
  });
});

describe("the loopback benchmark's durable log", () => {
  let directory = "";
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it("replays what was written, and stops at a torn record", () => {
    directory = mkdtempSync(join(tmpdir(), "parley-durable-log-"));
    const path = join(directory, "log");
    const opened = DurableLog.open(path);
    const snapshot = { metadata: { index: 1, term: 1, confState }, data: EMPTY_BYTES };
    const first: Entry[] = [2, 3, 4].map((index) => ({
      type: "normal",
      term: 1,
      index,
      data: bytes(index),
    }));
    opened.log.write({ hardState: null, snapshot, entries: [] }, true);
    opened.log.write(
      { hardState: { term: 1, vote: a, commit: 3 }, snapshot: null, entries: first },
      true,
    );
    // A new leader replaces entry 4.
    const replacement: Entry = { type: "normal", term: 2, index: 4, data: bytes(40) };
    opened.log.write(
      { hardState: { term: 2, vote: b, commit: 3 }, snapshot: null, entries: [replacement] },
      false,
    );
    opened.log.close();
    expect(opened.log.syncCount).toBe(2);

    // A record cut short by a crash is where the log ends.
    appendFileSync(path, readFileSync(path).subarray(0, 20));
    const { log, storage } = DurableLog.open(path);
    log.close();
    expect(storage.initialState().hardState).toEqual({ term: 2, vote: b, commit: 3 });
    expect(storage.initialState().confState).toEqual(confState);
    expect(storage.entries(2, 5, Number.POSITIVE_INFINITY)).toEqual([
      first[0],
      first[1],
      replacement,
    ]);

    // A record whose checksum fails is cut off too, with everything after it.
    const data = readFileSync(path);
    data[data.length - 30] = (data[data.length - 30] ?? 0) ^ 0xff;
    writeFileSync(path, data);
    const damaged = new MemoryStorage();
    expect(replay(readFileSync(path), damaged)).toBe(2);
  });
});
