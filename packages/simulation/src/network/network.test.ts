import { describe, expect, it } from "vitest";
import { SimulationMisuseError } from "../misuse.ts";
import { createRandom } from "../random/random.ts";
import { SimulatedScheduler } from "../time/scheduler.ts";
import { type FaultProfile, quietFaults } from "./faults.ts";
import { dropReasons, type NetworkStatistics, type Packet, SimulatedNetwork } from "./network.ts";

/** Every packet takes exactly 50 ms, so a test can act while packets are in flight. */
const fixedDelay50Ms: Partial<FaultProfile> = {
  delayMsMin: 50,
  delayMsMean: 50,
  delayMsMax: 50,
  delayTailMsMax: 50,
};

interface Delivery {
  readonly packet: Packet<{ readonly sequence: number }>;
  readonly atMs: number;
}

/** Three endpoints a, b, c whose deliveries are recorded, on a network with `faults`. */
function setUp(faults: Partial<FaultProfile> = {}, packetsInFlightMax?: number) {
  const scheduler = new SimulatedScheduler();
  const network = new SimulatedNetwork<{ readonly sequence: number }>({
    scheduler,
    random: createRandom(1234).fork("network"),
    faults: { ...quietFaults, ...faults },
    clonePayload: (payload) => ({ ...payload }),
    ...(packetsInFlightMax === undefined ? {} : { packetsInFlightMax }),
  });
  const deliveries: Delivery[] = [];
  for (const id of ["a", "b", "c"]) {
    network.register(id, (packet) => deliveries.push({ packet, atMs: scheduler.nowMs() }));
  }
  const sendMany = (from: string, to: string, count: number): void => {
    for (let sequence = 0; sequence < count; sequence += 1) {
      network.send(from, to, { sequence });
    }
  };
  return { scheduler, network, deliveries, sendMany };
}

function expectConservation(statistics: NetworkStatistics): void {
  const dropped = dropReasons.reduce((total, reason) => total + statistics.dropped[reason], 0);
  expect(statistics.sent + statistics.duplicated + statistics.replayed).toBe(
    statistics.delivered + dropped + statistics.inFlight,
  );
}

describe("delay and reordering", () => {
  it("delivers every packet once, later, within the delay bounds", () => {
    const { scheduler, network, deliveries, sendMany } = setUp();
    sendMany("a", "b", 200);
    expect(deliveries).toHaveLength(0);
    scheduler.runUntilIdle();
    expect(deliveries).toHaveLength(200);
    for (const { packet, atMs } of deliveries) {
      expect(atMs - packet.sentAtMs).toBeGreaterThanOrEqual(quietFaults.delayMsMin);
      expect(atMs - packet.sentAtMs).toBeLessThanOrEqual(quietFaults.delayMsMax);
      expect(packet.copy).toBe("original");
    }
    const statistics = network.statistics();
    expect(statistics).toMatchObject({ sent: 200, delivered: 200, inFlight: 0 });
    expectConservation(statistics);
  });

  it("reorders packets through independent delays", () => {
    const { scheduler, deliveries, sendMany } = setUp();
    sendMany("a", "b", 100);
    scheduler.runUntilIdle();
    const order = deliveries.map((delivery) => delivery.packet.payload.sequence);
    expect(order).not.toEqual([...order].sort((x, y) => x - y));
  });

  it("sends some packets down a long tail", () => {
    const { scheduler, deliveries, sendMany } = setUp({
      delayTailProbability: 1,
      delayTailMsMax: 5_000,
    });
    sendMany("a", "b", 50);
    scheduler.runUntilIdle();
    for (const { packet, atMs } of deliveries) {
      expect(atMs - packet.sentAtMs).toBeGreaterThanOrEqual(quietFaults.delayMsMax);
      expect(atMs - packet.sentAtMs).toBeLessThanOrEqual(5_000);
    }
    expect(
      Math.max(...deliveries.map(({ packet, atMs }) => atMs - packet.sentAtMs)),
    ).toBeGreaterThan(1_000);
  });
});

describe("loss, duplication and replay", () => {
  it("loses packets at the profile's rate", () => {
    const { scheduler, network, deliveries, sendMany } = setUp({ lossProbability: 0.3 });
    sendMany("a", "b", 1_000);
    scheduler.runUntilIdle();
    const lost = network.statistics().dropped.loss;
    expect(lost).toBeGreaterThan(240);
    expect(lost).toBeLessThan(360);
    expect(deliveries).toHaveLength(1_000 - lost);
    expectConservation(network.statistics());
  });

  it("duplicates: the same send arrives twice, the copy cloned", () => {
    const { scheduler, network, deliveries, sendMany } = setUp({ duplicationProbability: 1 });
    sendMany("a", "b", 20);
    scheduler.runUntilIdle();
    expect(deliveries).toHaveLength(40);
    for (let id = 1; id <= 20; id += 1) {
      const copies = deliveries.filter((delivery) => delivery.packet.id === id);
      expect(copies.map((copy) => copy.packet.copy).sort()).toEqual(["duplicate", "original"]);
      expect(copies[0]?.packet.payload).not.toBe(copies[1]?.packet.payload);
      expect(copies[0]?.packet.payload).toEqual(copies[1]?.packet.payload);
    }
    expect(network.statistics().duplicated).toBe(20);
  });

  it("replays an old packet long after newer ones were delivered", () => {
    const { scheduler, network, deliveries } = setUp({
      replayProbability: 1,
      replayDelayMsMin: 1_000,
      replayDelayMsMax: 2_000,
    });
    network.send("a", "b", { sequence: 0 });
    scheduler.runUntil(500);
    network.send("a", "b", { sequence: 1 });
    scheduler.runUntilIdle();
    const story = deliveries.map(
      (delivery) => `${delivery.packet.payload.sequence} ${delivery.packet.copy}`,
    );
    // Packet 0 comes back after packet 1 was delivered: an old packet, late.
    expect(story.slice(0, 2)).toEqual(["0 original", "1 original"]);
    expect(story.slice(2).sort()).toEqual(["0 replay", "1 replay"]);
    for (const { packet, atMs } of deliveries.slice(2)) {
      expect(atMs - packet.sentAtMs).toBeGreaterThanOrEqual(1_000);
    }
    expect(network.statistics().replayed).toBe(2);
  });
});

describe("partitions", () => {
  it("lets no packet cross a symmetric partition, in either direction, while it stands", () => {
    const { scheduler, network, deliveries, sendMany } = setUp();
    const partition = network.partition(["a"], ["b"]);
    sendMany("a", "b", 10);
    sendMany("b", "a", 10);
    sendMany("c", "a", 10);
    sendMany("b", "c", 10);
    scheduler.runUntilIdle();
    expect(deliveries.map(({ packet }) => `${packet.from}${packet.to}`).sort()).toEqual([
      ...Array(10).fill("bc"),
      ...Array(10).fill("ca"),
    ]);
    expect(network.statistics().dropped.partition).toBe(20);
    expect(network.removePartition(partition)).toBe(true);
    sendMany("a", "b", 5);
    scheduler.runUntilIdle();
    expect(deliveries).toHaveLength(25);
  });

  it("drops packets already in flight when a partition starts", () => {
    const { scheduler, network, deliveries, sendMany } = setUp(fixedDelay50Ms);
    sendMany("a", "b", 10);
    scheduler.runUntil(10);
    network.partition(["a"]);
    scheduler.runUntilIdle();
    expect(deliveries).toHaveLength(0);
    expect(network.statistics().dropped.partition).toBe(10);
  });

  it("drops only one direction of a one-way partition", () => {
    const { scheduler, network, deliveries, sendMany } = setUp();
    network.partitionOneWay(["a"], ["b"]);
    sendMany("a", "b", 10);
    sendMany("b", "a", 10);
    scheduler.runUntilIdle();
    expect(deliveries.every(({ packet }) => packet.from === "b" && packet.to === "a")).toBe(true);
    expect(deliveries).toHaveLength(10);
    expect(network.statistics().dropped).toMatchObject({ "one-way-partition": 10, partition: 0 });
  });

  it("heals every partition and clog at once", () => {
    const { scheduler, network, deliveries, sendMany } = setUp();
    network.partition(["a"]);
    network.partitionOneWay(["b"], ["c"]);
    network.clog("c", "b", 10_000);
    network.heal();
    expect(network.partitionsActive).toBe(0);
    sendMany("a", "b", 1);
    sendMany("b", "c", 1);
    sendMany("c", "b", 1);
    scheduler.runUntilIdle();
    expect(deliveries).toHaveLength(3);
    expect(scheduler.nowMs()).toBeLessThan(100);
  });
});

describe("clogs, downed nodes and capacity", () => {
  it("holds packets on a clogged direction until the clog ends, and only that direction", () => {
    const { scheduler, network, deliveries, sendMany } = setUp();
    network.clog("a", "b", 500);
    sendMany("a", "b", 5);
    sendMany("b", "a", 5);
    scheduler.runUntilIdle();
    for (const { packet, atMs } of deliveries) {
      if (packet.from === "a") {
        expect(atMs).toBe(500);
      } else {
        expect(atMs).toBeLessThanOrEqual(quietFaults.delayMsMax);
      }
    }
    expect(deliveries).toHaveLength(10);
    expect(network.statistics().heldByClog).toBe(5);
  });

  it("drops packets to and from a downed node, even those in flight", () => {
    const { scheduler, network, deliveries, sendMany } = setUp(fixedDelay50Ms);
    sendMany("a", "b", 3);
    scheduler.runUntil(10);
    network.takeDown("b");
    sendMany("c", "b", 3);
    sendMany("b", "c", 3);
    sendMany("a", "c", 3);
    scheduler.runUntilIdle();
    expect(deliveries.map(({ packet }) => packet.to)).toEqual(["c", "c", "c"]);
    expect(network.statistics().dropped["node-down"]).toBe(9);
    network.bringUp("b");
    sendMany("a", "b", 1);
    scheduler.runUntilIdle();
    expect(deliveries).toHaveLength(4);
  });

  it("drops for capacity past the in-flight limit", () => {
    const { scheduler, network, deliveries, sendMany } = setUp({}, 5);
    sendMany("a", "b", 10);
    scheduler.runUntilIdle();
    expect(deliveries).toHaveLength(5);
    expect(network.statistics().dropped.capacity).toBe(5);
    expectConservation(network.statistics());
  });

  it("refuses misuse: unknown endpoints, inconsistent profiles", () => {
    const { network } = setUp();
    expect(() => network.send("a", "zed", { sequence: 0 })).toThrow(SimulationMisuseError);
    expect(() => network.setFaults({ ...quietFaults, lossProbability: 2 })).toThrow(
      SimulationMisuseError,
    );
    expect(() => network.setFaults({ ...quietFaults, delayMsMean: 50 })).toThrow(
      SimulationMisuseError,
    );
    expect(() => network.partition(["a"], ["a", "b"])).toThrow(SimulationMisuseError);
  });
});
