import {
  decodeFrame,
  type FederationEvent,
  FederationHost,
  type FederationStorage,
  MemoryFederationStorage,
} from "@parley/federation";
import { makeUserId, parseServerName, type RoomId, roomIdFromBytes } from "@parley/protocol";
import { type ControlEntry, parseRoomAction } from "@parley/room";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../observability/logger.ts";
import { FederationDriver } from "./federation-driver.ts";
import type { FederationTransport, FrameDelivery } from "./federation-transport.ts";

const self = parseServerName("a.test");
const alice = makeUserId("alice", self);

/** Storage that records the order of flushes among other happenings, and can be made to fail. */
class RecordingStorage extends MemoryFederationStorage {
  readonly log: string[];
  failNext = false;

  constructor(log: string[]) {
    super();
    this.log = log;
  }

  async flush(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failNext) throw new Error("disk full");
    this.log.push("flush");
  }
}

function createEntry(room: RoomId, joinRule: "invite" | "open" = "invite"): ControlEntry {
  return {
    actor: { type: "user", user: alice },
    action: parseRoomAction({
      type: "create",
      roomId: room,
      kind: "plain",
      contentType: "text/plain",
      name: "room",
      topic: "",
      joinRule,
      sponsorPolicy: { mode: "invited-by-admin", sponsorsMax: 7 },
    }),
    proposedAtMs: 1000,
  };
}

const drivers: FederationDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((driver) => driver.close()));
});

/** Storage that can also write its flush inside the sink's transaction (like the database's). */
class WithinStorage extends RecordingStorage {
  readonly flushWithin = async (): Promise<void> => {
    this.log.push("flush within");
  };
}

function build(options: { peersUp?: boolean; within?: boolean } = {}) {
  const log: string[] = [];
  const storage = options.within === true ? new WithinStorage(log) : new RecordingStorage(log);
  const sent: Array<{ peer: string; type: string; delivery: FrameDelivery }> = [];
  const transport: FederationTransport = {
    connect: (peer) => log.push(`connect ${peer}`),
    send: async (peer, bytes, delivery) => {
      const frame = decodeFrame(bytes);
      log.push(`send ${frame.type}`);
      sent.push({ peer, type: frame.type, delivery });
    },
    isUp: () => options.peersUp ?? false,
  };
  const host = new FederationHost({
    self,
    clock: { nowMs: () => 1000 },
    random: { nextInt: () => 0 },
    storage: storage as FederationStorage,
  });
  const events: FederationEvent[] = [];
  const driver = new FederationDriver({
    host,
    storage,
    transport,
    tickIntervalMs: 10,
    logger: createLogger("silent"),
    firstRequestId: 1,
  });
  driver.setEventSink({
    handle: async (batch) => {
      log.push(`events ${batch.map((event) => event.type).join(",")}`);
      events.push(...batch);
    },
    // Like the projection: rounds of messages alone, written with the flush.
    handleWithin: (batch, flush) => {
      if (batch.some((event) => event.type === "control-applied")) return null;
      return (async () => {
        log.push("transaction");
        await flush(null as never);
        log.push(`events within ${batch.map((event) => event.type).join(",")}`);
        events.push(...batch);
      })();
    },
  });
  drivers.push(driver);
  return { driver, storage, log, events, sent };
}

const room = roomIdFromBytes(new Uint8Array(16).fill(7));

describe("FederationDriver", () => {
  it("writes a round of messages and the core's flush in one transaction, control rounds apart", async () => {
    const { driver, log } = build({ within: true });
    await driver.createRoom(createEntry(room));
    // A control round: the core's own flush first, then the projection.
    expect(log.indexOf("flush")).toBeGreaterThanOrEqual(0);
    expect(log.indexOf("flush")).toBeLessThan(
      log.findIndex((line) => line.startsWith("events control-applied")),
    );
    expect(log).not.toContain("flush within");
    log.length = 0;
    const sent = await driver.sendMessage(room, alice, "m1", new Uint8Array([1]));
    expect(sent).toMatchObject({ kind: "accepted", sequence: 1 });
    // The message round: one transaction holding the flush, then its events; no flush of its own.
    expect(log).not.toContain("flush");
    const transaction = log.indexOf("transaction");
    expect(transaction).toBeGreaterThanOrEqual(0);
    expect(log[transaction + 1]).toBe("flush within");
    expect(log[transaction + 2]).toMatch(/^events within .*message-stored/);
  });

  it("makes a new room durable before anyone hears of it, and answers after its projection", async () => {
    const { driver, log, events } = build();
    await driver.createRoom(createEntry(room));
    expect(log.indexOf("flush")).toBeGreaterThanOrEqual(0);
    expect(log.indexOf("flush")).toBeLessThan(log.findIndex((line) => line.startsWith("events")));
    expect(events.filter((event) => event.type === "control-applied")).toHaveLength(1);
    expect(driver.view((host) => host.session(room)?.replica.state?.name)).toBe("room");
  });

  it("answers a control proposal with its committed index, and a message with its stamp", async () => {
    const { driver } = build();
    await driver.createRoom(createEntry(room));
    const topic = parseRoomAction({ type: "set-topic", topic: "news" });
    const proposed = await driver.proposeControl(room, {
      actor: { type: "user", user: alice },
      action: topic,
      proposedAtMs: 1001,
    });
    expect(proposed).toMatchObject({ kind: "committed", index: 2 });
    const sent = await driver.sendMessage(room, alice, "m1", new Uint8Array([1]));
    expect(sent).toMatchObject({ kind: "accepted", sequence: 1 });
    const unknown = await driver.sendMessage(
      roomIdFromBytes(new Uint8Array(16)),
      alice,
      "m2",
      new Uint8Array([1]),
    );
    expect(unknown).toMatchObject({ kind: "refused", code: "room_unknown" });
  });

  it("shares one flush among many inputs that arrive together (group commit)", async () => {
    const { driver, log } = build();
    await driver.createRoom(createEntry(room));
    const flushesBefore = log.filter((line) => line === "flush").length;
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        driver.sendMessage(room, alice, `m${index}`, new Uint8Array([index % 256])),
      ),
    );
    expect(outcomes.every((outcome) => outcome.kind === "accepted")).toBe(true);
    const flushes = log.filter((line) => line === "flush").length - flushesBefore;
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(flushes).toBeLessThanOrEqual(4);
  });

  it("stops for good when a flush fails, and says so", async () => {
    const { driver, storage, log } = build();
    await driver.createRoom(createEntry(room));
    storage.failNext = true;
    const failed = driver.sendMessage(room, alice, "lost", new Uint8Array([1]));
    expect(await failed).toMatchObject({ kind: "refused", code: "unavailable" });
    expect(driver.failure?.message).toBe("disk full");
    expect(log.filter((line) => line.startsWith("events")).length).toBe(1);
    await expect(driver.followRoom(room, [])).rejects.toMatchObject({ code: "unavailable" });
  });

  it("connects to a peer it sends to, and sends submissions durably", async () => {
    const { driver, sent, log } = build();
    const remote = roomIdFromBytes(new Uint8Array(16).fill(3));
    await driver.followRoom(remote, [parseServerName("b.test")]);
    driver.linkUp(parseServerName("b.test"));
    const outcome = driver.sendMessage(remote, alice, "m1", new Uint8Array([1]));
    // The leaf has no sponsor answering: it gives up only after its attempts.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(log).toContain("connect b.test");
    expect(sent.some((frame) => frame.type === "attach" && frame.delivery === "best-effort")).toBe(
      true,
    );
    await driver.close();
    expect(await outcome).toMatchObject({ kind: "refused", code: "unavailable" });
  });

  it("runs the next round of messages while the last is not yet durable, and answers in order", async () => {
    const { driver } = build({ within: true });
    await driver.createRoom(createEntry(room));
    const durable: Array<() => void> = [];
    driver.setEventSink({
      handle: async () => {},
      handleWithin: (batch, flush) => {
        if (batch.some((event) => event.type === "control-applied")) return null;
        return flush(null as never).then(
          () => new Promise<void>((resolve) => durable.push(resolve)),
        );
      },
    });
    const turnsUntil = async (done: () => boolean) => {
      for (let turn = 0; turn < 100 && !done(); turn += 1) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const answered: string[] = [];
    const first = driver
      .sendMessage(room, alice, "m1", new Uint8Array([1]))
      .then(() => answered.push("m1"));
    await turnsUntil(() => durable.length === 1);
    const second = driver
      .sendMessage(room, alice, "m2", new Uint8Array([2]))
      .then(() => answered.push("m2"));
    // The second round's transaction starts although the first is not durable yet.
    await turnsUntil(() => durable.length === 2);
    expect(durable.length).toBe(2);
    durable[1]?.();
    await turnsUntil(() => answered.length > 0);
    expect(answered).toEqual([]);
    durable[0]?.();
    await Promise.all([first, second]);
    expect(answered).toEqual(["m1", "m2"]);
  });
});
