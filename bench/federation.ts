// federation: real homeserver processes on loopback sharing one room, three
// sponsors (servers 0-2) and two leaves (3, 4), an SDK user on each. (a)
// End-to-end latency from the user of leaf 3 through a sponsor to the user
// of leaf 4, at a fixed rate, sent by several devices of that user over
// their stream sockets with envelopes signed beforehand, and received by a
// bare stream socket (federation/stream-latency.ts: the servers' path, not a
// client's); (c) control-lane state changes per second
// (topic changes from many concurrent writers on the three sponsors); (d) the
// time until the room accepts a state change again after its Raft leader is
// killed with SIGKILL (median of several rounds). The SDK clients run in this
// process, so the sender and receivers share its CPU with the measurement.
// (b) Copies of one message per server (federation/copies.ts), on a room of
// 20 servers (3 sponsors, 17 leaves), processes too, started after the first
// room is closed; the smoke run counts on the 5-server room.

import { type CopiesResult, copiesOfOneMessage, describeCopies } from "./federation/copies.ts";
import { controlChangesPerSecond, failoverTimes } from "./federation/measurements.ts";
import { type SharedRoom, startSharedRoom } from "./federation/shared-room.ts";
import { streamLatency } from "./federation/stream-latency.ts";
import { type Benchmark, type Figure, median } from "./harness.ts";

interface Scale {
  readonly latencyDurationMs: number;
  readonly controlDurationMs: number;
  readonly writersPerUser: number;
  readonly failoverRounds: number;
  /** Servers of the room for figure (b); 0 counts on the 5-server room instead. */
  readonly copiesServers: number;
}

const full: Scale = {
  latencyDurationMs: 5_000,
  controlDurationMs: 5_000,
  writersPerUser: 32,
  failoverRounds: 5,
  copiesServers: 20,
};
const smoke: Scale = {
  latencyDurationMs: 300,
  controlDurationMs: 300,
  writersPerUser: 2,
  failoverRounds: 1,
  copiesServers: 0,
};
const sponsors = [0, 1, 2];
/**
 * `PARLEY_BENCH_FEDERATION_FIGURES=a,c` runs only those figures (default all),
 * `PARLEY_BENCH_FEDERATION_RATE=200` sends (a) at another rate: for
 * investigating one figure without the others' minutes. Runs for the record
 * use neither.
 */
const figuresWanted = new Set(
  (process.env["PARLEY_BENCH_FEDERATION_FIGURES"] ?? "a,b,c,d").split(",").map((one) => one.trim()),
);
const latencyPerSecond = Number(process.env["PARLEY_BENCH_FEDERATION_RATE"] ?? 1_000);
/** Devices of the sending user that share the rate. */
const latencySenders = 4;

export const federationBenchmark: Benchmark = {
  name: "federation",
  description:
    "5 homeserver processes, 3 sponsors + 2 leaves: leaf-to-leaf latency at 1,000 msg/s, control changes/s, recovery after the Raft leader is killed; then 20 processes: copies of one message per server",
  async run(options) {
    const scale = options.smoke ? smoke : full;
    const figures: Figure[] = [];
    const room = await startSharedRoom(5, sponsors.length);
    try {
      if (scale.copiesServers === 0 && figuresWanted.has("b"))
        figures.push(...(await copiesFigures(room)));
      if (figuresWanted.has("a")) figures.push(...(await latencyFigures(room, scale)));
      if (figuresWanted.has("c")) {
        const control = await controlChangesPerSecond(room, sponsors, {
          writersPerUser: scale.writersPerUser,
          durationMs: scale.controlDurationMs,
        });
        figures.push({
          name: "control-lane state changes",
          value: control.committedPerSecond,
          unit: "changes/s",
          note: `target ≥ 5,000; ${sponsors.length * scale.writersPerUser} writers, ${control.refused} refused`,
        });
      }
      if (figuresWanted.has("d")) {
        const failovers = await failoverTimes(room, sponsors, scale.failoverRounds);
        figures.push({
          name: "state changes accepted again after leader kill -9 (median)",
          value: median(failovers),
          unit: "ms",
          note: `target < 2,000; rounds: ${failovers.map((time) => Math.round(time)).join(", ")}`,
        });
      }
    } finally {
      await room.close();
    }
    if (scale.copiesServers > 0 && figuresWanted.has("b")) {
      process.stderr.write(`federation: copies: starting ${scale.copiesServers} servers\n`);
      const wide = await startSharedRoom(scale.copiesServers, sponsors.length);
      try {
        figures.push(...(await copiesFigures(wide)));
      } finally {
        await wide.close();
      }
    }
    return figures;
  },
};

/** Figure (a): leaf 3's user to leaf 4's, through a sponsor, at a fixed rate. */
async function latencyFigures(room: SharedRoom, scale: Scale): Promise<Figure[]> {
  const latency = await streamLatency(room, {
    senderServer: 3,
    receiverServer: 4,
    senders: latencySenders,
    perSecond: latencyPerSecond,
    durationMs: scale.latencyDurationMs,
  });
  const validity = latency.valid
    ? ""
    : "; INVALID: the senders fell short of 95% of the rate, so this measures their backlog";
  return [
    {
      name: "leaf → sponsor → leaf latency p50",
      value: latency.p50Ms,
      unit: "ms",
      note: `at ${latencyPerSecond} msg/s (${Math.round(latency.sentPerSecond)} reached by ${latencySenders} sending devices), ${latency.received}/${latency.sent} received, refused: ${JSON.stringify(latency.refused)}, ms resolution${validity}`,
    },
    {
      name: "leaf → sponsor → leaf latency p99",
      value: latency.p99Ms,
      unit: "ms",
      note: `target < 10 ms${validity}`,
    },
  ];
}

/** Figure (b): one message from a leaf's user, then one from a sponsor's (server 0). */
async function copiesFigures(room: SharedRoom): Promise<Figure[]> {
  const size = room.users.length;
  const figure = (result: CopiesResult, from: string): Figure => ({
    name: `copies of one message sent by the origin, ${size} servers, origin ${from}`,
    value: result.originSent,
    unit: "copies",
    note: `target 1, every server receiving exactly 1; ${describeCopies(result)}`,
  });
  const fromLeaf = await copiesOfOneMessage(room, size - 1);
  const fromSponsor = await copiesOfOneMessage(room, 0);
  return [figure(fromLeaf, "a leaf"), figure(fromSponsor, "a sponsor")];
}
