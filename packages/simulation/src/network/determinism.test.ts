import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRandom } from "../random/random.ts";
import { SimulatedScheduler } from "../time/scheduler.ts";
import {
  chooseFaultProfile,
  describeFaultProfile,
  type FaultProfile,
  quietFaults,
} from "./faults.ts";
import { Nemesis } from "./nemesis.ts";
import { dropReasons, type NetworkOptions, SimulatedNetwork } from "./network.ts";

/** Every fault at a high rate, so a short run exercises all of them. */
const brutalFaults: FaultProfile = {
  delayMsMin: 1,
  delayMsMean: 20,
  delayMsMax: 100,
  delayTailProbability: 0.02,
  delayTailMsMax: 2_000,
  lossProbability: 0.1,
  duplicationProbability: 0.1,
  replayProbability: 0.05,
  replayDelayMsMin: 100,
  replayDelayMsMax: 3_000,
  partitionProbability: 0.3,
  partitionOneWayProbability: 0.5,
  partitionDurationMsMean: 500,
  clogProbability: 0.2,
  clogDurationMsMean: 300,
  nemesisIntervalMs: 100,
};

const endpoints = ["n1", "n2", "n3", "n4", "n5"];

/**
 * Five endpoints gossiping: each sends to a random peer every 10 ms, and
 * answers every packet it receives with a reply, for `durationMs`.
 */
function runGossip(
  seed: number,
  faults: FaultProfile | "swarm",
  durationMs = 5_000,
  payloads: Pick<
    NetworkOptions<string>,
    "describePayload" | "fingerprintPayload" | "traceEventsKept"
  > = { describePayload: (payload) => payload },
) {
  const root = createRandom(seed);
  const profile = faults === "swarm" ? chooseFaultProfile(root.fork("faults")) : faults;
  const scheduler = new SimulatedScheduler();
  const network = new SimulatedNetwork<string>({
    scheduler,
    random: root.fork("network"),
    faults: profile,
    ...payloads,
  });
  const workload = root.fork("workload");
  for (const id of endpoints) {
    network.register(id, (packet) => {
      if (packet.payload.startsWith("ping")) {
        network.send(id, packet.from, `pong ${packet.id}`);
      }
    });
  }
  const tick = (): void => {
    for (const id of endpoints) {
      const peer = workload.pick(endpoints.filter((other) => other !== id));
      network.send(id, peer, `ping from ${id}`);
    }
    if (scheduler.nowMs() < durationMs) {
      scheduler.scheduleAfter(10, tick);
    }
  };
  scheduler.scheduleAfter(0, tick);
  const nemesis = new Nemesis({ network, scheduler, random: root.fork("nemesis") });
  nemesis.start();
  const result = scheduler.runUntil(durationMs);
  expect(result.stoppedBecause).toBe("time-reached");
  return { scheduler, network, nemesis, profile };
}

describe("determinism", () => {
  it("replays the same trace and fingerprint for the same seed, under every fault", () => {
    const first = runGossip(77, brutalFaults);
    const second = runGossip(77, brutalFaults);
    expect(first.network.fingerprint()).toBe(second.network.fingerprint());
    expect(first.network.trace()).toEqual(second.network.trace());
    expect(first.network.statistics()).toEqual(second.network.statistics());
  });

  it("fingerprints by number when given one, describing only the events it keeps", () => {
    let described = 0;
    const describePayload = (payload: string): string => {
      described += 1;
      return payload;
    };
    // Distinct per payload text, so the fingerprint still tells payloads apart.
    const fingerprintPayload = (payload: string): number =>
      payload.length * 31 + payload.charCodeAt(0);
    const untraced = runGossip(77, brutalFaults, 1_000, {
      describePayload,
      fingerprintPayload,
      traceEventsKept: 0,
    });
    expect(described).toBe(0);
    const traced = runGossip(77, brutalFaults, 1_000, {
      describePayload,
      fingerprintPayload,
      traceEventsKept: 100_000,
    });
    expect(described).toBe(traced.network.statistics().sent);
    expect(traced.network.fingerprint()).toBe(untraced.network.fingerprint());
    expect(traced.network.trace().find((event) => event.kind === "send")?.detail).toMatch(/^ping/);
    const other = runGossip(77, brutalFaults, 1_000, {
      fingerprintPayload: (payload) => fingerprintPayload(payload) + 1,
    });
    expect(other.network.fingerprint()).not.toBe(untraced.network.fingerprint());
  });

  it("gives a different trace for every different seed", () => {
    const fingerprints = new Set<string>();
    for (let seed = 1; seed <= 20; seed += 1) {
      fingerprints.add(runGossip(seed, brutalFaults, 1_000).network.fingerprint());
    }
    expect(fingerprints.size).toBe(20);
  });

  it("exercises every fault under the brutal profile", () => {
    const { network } = runGossip(5, brutalFaults);
    const statistics = network.statistics();
    expect(statistics.duplicated).toBeGreaterThan(0);
    expect(statistics.replayed).toBeGreaterThan(0);
    expect(statistics.heldByClog).toBeGreaterThan(0);
    for (const reason of ["loss", "partition", "one-way-partition"] as const) {
      expect(statistics.dropped[reason]).toBeGreaterThan(0);
    }
    const kinds = new Set(network.trace().map((event) => event.kind));
    for (const kind of [
      "send",
      "deliver",
      "drop",
      "hold",
      "partition",
      "partition-removed",
      "clog",
    ]) {
      expect(kinds).toContain(kind);
    }
  });

  it("keeps every packet accounted for, for any seed (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 }), (seed) => {
        const { network } = runGossip(seed, "swarm", 1_000);
        const statistics = network.statistics();
        const dropped = dropReasons.reduce(
          (total, reason) => total + statistics.dropped[reason],
          0,
        );
        expect(statistics.sent + statistics.duplicated + statistics.replayed).toBe(
          statistics.delivered + dropped + statistics.inFlight,
        );
      }),
      { numRuns: 30 },
    );
  });
});

describe("swarm fault profiles", () => {
  it("lets each seed pick its own rates, switching each fault off in some seeds", () => {
    const profiles = Array.from({ length: 64 }, (_, seed) =>
      chooseFaultProfile(createRandom(seed)),
    );
    expect(new Set(profiles.map(describeFaultProfile)).size).toBeGreaterThan(50);
    const rates = [
      "lossProbability",
      "duplicationProbability",
      "replayProbability",
      "partitionProbability",
      "clogProbability",
    ] as const;
    for (const rate of rates) {
      expect(profiles.some((profile) => profile[rate] === 0)).toBe(true);
      expect(profiles.some((profile) => profile[rate] > 0)).toBe(true);
    }
    expect(chooseFaultProfile(createRandom(3))).toEqual(chooseFaultProfile(createRandom(3)));
  });

  it("describes a profile in one line naming its faults", () => {
    expect(describeFaultProfile(quietFaults)).toBe("delay 1/3/10 ms (min/mean/max)");
    expect(describeFaultProfile(brutalFaults)).toContain("loss 0.1");
  });
});

describe("liveness phase", () => {
  it("delivers everything once the nemesis stops, the network heals and faults go quiet", () => {
    const { scheduler, network, nemesis } = runGossip(11, brutalFaults, 2_000);
    nemesis.stop();
    network.heal();
    network.setFaults(quietFaults);
    // Let replays and long tails from the faulty phase drain.
    scheduler.runUntil(scheduler.nowMs() + 5_000);
    const before = network.statistics();
    expect(before.inFlight).toBe(0);
    for (const from of endpoints) {
      for (const to of endpoints) {
        network.send(from, to, "final");
      }
    }
    expect(scheduler.runUntilIdle().stoppedBecause).toBe("idle");
    const after = network.statistics();
    expect(after.delivered - before.delivered).toBe(endpoints.length ** 2);
    expect(network.partitionsActive).toBe(0);
  });
});
