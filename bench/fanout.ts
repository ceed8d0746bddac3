// fanout: one room, 4 senders and 100 receivers on WebSockets (senders send
// on their sockets too), against a real
// homeserver process on loopback; every message is signature-checked and
// durably stored before it is acknowledged and delivered. Reports delivered
// messages per second at saturation, end-to-end latency at a fixed 1,000
// messages per second, and the server's memory with 10,000 idle devices
// connected. Loops are bounded by counts and deadlines.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ParleyClient, StreamClient } from "@parley/cli/client";
import {
  BenchHomeserver,
  freePort,
  type BenchHomeserver as Homeserver,
} from "./fanout/homeserver.ts";
import { connectReceivers, drain, send } from "./fanout/load.ts";
import { type ProvisionedDevice, provisionDevices } from "./fanout/provision.ts";
import { type Benchmark, type Figure, percentile } from "./harness.ts";

export interface Scale {
  readonly senders: number;
  readonly receivers: number;
  readonly saturationMs: number;
  readonly saturationMessagesPerSender: number;
  readonly inFlightPerSender: number;
  readonly fixedRatePerSecond: number;
  readonly fixedRateMs: number;
  readonly idleDevices: number;
}

const full: Scale = {
  senders: 4,
  receivers: 100,
  saturationMs: 8_000,
  saturationMessagesPerSender: 12_000,
  inFlightPerSender: 32,
  fixedRatePerSecond: 1_000,
  fixedRateMs: 8_000,
  idleDevices: 10_000,
};

const smoke: Scale = {
  senders: 2,
  receivers: 5,
  saturationMs: 500,
  saturationMessagesPerSender: 50,
  inFlightPerSender: 4,
  fixedRatePerSecond: 50,
  fixedRateMs: 500,
  idleDevices: 20,
};

const transportVariable = "PARLEY_BENCH_FANOUT_TRANSPORT";

/** Idle sockets are opened this many at a time. */
const connectBatch = 500;

function clientOf(
  server: Homeserver,
  serverName: string,
  provisioned: ProvisionedDevice,
): ParleyClient {
  const client = new ParleyClient({ baseUrl: server.url, serverName, device: provisioned.device });
  client.accessToken = provisioned.accessToken;
  return client;
}

async function measureFanout(
  server: Homeserver,
  serverName: string,
  devices: readonly ProvisionedDevice[],
  scale: Scale,
): Promise<Figure[]> {
  const clients = devices.map((device) => clientOf(server, serverName, device));
  const senders = clients.slice(0, scale.senders);
  const [owner] = senders;
  if (owner === undefined) throw new Error("no senders");
  const { roomId } = await owner.createRoom({
    clientId: "fanout",
    name: "fanout",
    joinRule: "open",
  });
  for (const client of clients.slice(1)) await client.act(roomId, { type: "join" });

  const sentAtMs = new Map<string, number>();
  // Senders send on their own stream sockets (protocol §10.8 send frames);
  // they receive the room's events too, which are not counted.
  // PARLEY_BENCH_FANOUT_TRANSPORT=http sends over HTTP instead, for comparison.
  const overHttp = process.env[transportVariable] === "http";
  const sockets = await Promise.all(
    devices.slice(0, scale.senders).map((device) =>
      StreamClient.connect(server.url, device.accessToken, {
        autoAcknowledge: true,
        keepEvents: false,
        onEventsText: () => {},
      }),
    ),
  );
  const receivers = await connectReceivers({
    baseUrl: server.url,
    tokens: devices.slice(scale.senders).map((device) => device.accessToken),
    sentAtMs,
  });
  try {
    // Saturation: as many messages as the server takes, for a fixed time.
    const { accepted, startedAtMs: saturationStart } = await send({
      senders,
      ...(overHttp ? {} : { sockets }),
      roomId,
      messagesMax: scale.saturationMessagesPerSender,
      durationMs: scale.saturationMs,
      pace: { inFlight: scale.inFlightPerSender },
      sentAtMs,
      label: "saturation",
    });
    const expected = accepted * scale.receivers;
    const drainedAt = await drain(receivers, expected, Date.now() + 30_000);
    const delivered = receivers.delivered();
    const commitBatchMean = await meanCommitBatch(server.url);
    const deliveriesPerSecond = (delivered * 1000) / (drainedAt - saturationStart);
    const acceptedPerSecond = (accepted * 1000) / (drainedAt - saturationStart);

    // Fixed rates: latency at the target's rate, and at a tenth of it.
    const latencyFigures: Figure[] = [];
    let fixedTotal = 0;
    for (const perSecond of [scale.fixedRatePerSecond, scale.fixedRatePerSecond / 10]) {
      receivers.latenciesMs.length = 0;
      const before = receivers.delivered();
      const { accepted: fixed } = await send({
        senders,
        ...(overHttp ? {} : { sockets }),
        roomId,
        messagesMax: Math.ceil((perSecond * scale.fixedRateMs) / 1000 / scale.senders),
        durationMs: scale.fixedRateMs + 5_000,
        pace: { perSecond: perSecond / scale.senders },
        sentAtMs,
        label: `fixed-${perSecond}`,
      });
      fixedTotal += fixed;
      await drain(receivers, before + fixed * scale.receivers, Date.now() + 30_000);
      const latencies = receivers.latenciesMs;
      const at = (p: number) => (latencies.length === 0 ? 0 : percentile(latencies, p));
      latencyFigures.push(
        {
          name: `latency p50 at ${perSecond} msg/s`,
          value: at(50),
          unit: "ms",
          note: "send started → frame received",
        },
        {
          name: `latency p99 at ${perSecond} msg/s`,
          value: at(99),
          unit: "ms",
          note: perSecond === scale.fixedRatePerSecond ? "target < 10" : "",
        },
      );
    }
    return [
      { name: "messages accepted at saturation", value: acceptedPerSecond, unit: "msg/s" },
      {
        name: "events per group commit, mean",
        value: commitBatchMean,
        unit: "events",
        note: "one transaction and one fsync each",
      },
      {
        name: "deliveries at saturation",
        value: deliveriesPerSecond,
        unit: "deliveries/s",
        note: `${scale.senders} senders, ${scale.receivers} receivers; target ≥ 300,000`,
      },
      {
        name: "delivered / expected",
        value: (receivers.delivered() * 100) / (expected + fixedTotal * scale.receivers),
        unit: "%",
      },
      ...latencyFigures,
    ];
  } finally {
    await receivers.close();
    await Promise.all(sockets.map((socket) => socket.close()));
  }
}

/** The mean batch of the server's group commits so far, from its /metrics. */
async function meanCommitBatch(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
  const count = read("parley_commit_batch_events_count");
  return count === 0 ? 0 : read("parley_commit_batch_events_sum") / count;
}

async function measureIdle(
  server: Homeserver,
  devices: readonly ProvisionedDevice[],
): Promise<Figure[]> {
  const before = server.residentBytes();
  const streams: StreamClient[] = [];
  try {
    for (let start = 0; start < devices.length; start += connectBatch) {
      const batch = devices.slice(start, start + connectBatch);
      streams.push(
        ...(await Promise.all(
          batch.map((device) =>
            StreamClient.connect(server.url, device.accessToken, { keepEvents: false }),
          ),
        )),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = server.residentBytes();
    return [
      { name: "server RSS before idle devices", value: before / 2 ** 20, unit: "MiB" },
      {
        name: `server RSS with ${devices.length} idle devices`,
        value: after / 2 ** 20,
        unit: "MiB",
        note: "target < 1 GiB with 10,000",
      },
      {
        name: "server memory per idle device",
        value: (after - before) / devices.length / 1024,
        unit: "KiB",
      },
    ];
  } finally {
    for (let start = 0; start < streams.length; start += connectBatch) {
      await Promise.all(streams.slice(start, start + connectBatch).map((stream) => stream.close()));
    }
  }
}

export const fanoutBenchmark: Benchmark = {
  name: "fanout",
  description:
    "one room, 4 senders, 100 WebSocket receivers, signed and durably stored messages; 10,000 idle devices",
  run(options) {
    return runFanout(options.smoke ? smoke : full);
  },
};

export async function runFanout(scale: Scale): Promise<Figure[]> {
  const dataDirectory = await mkdtemp(join(tmpdir(), "parley-fanout-"));
  const port = await freePort();
  const serverName = `localhost:${port}`;
  const active = await provisionDevices({
    dataDirectory,
    serverName,
    prefix: "active",
    count: scale.senders + scale.receivers,
    devicesPerAccount: 1,
  });
  const idle = await provisionDevices({
    dataDirectory,
    serverName,
    prefix: "idle",
    count: scale.idleDevices,
    devicesPerAccount: 100,
  });
  const server = await BenchHomeserver.start({ dataDirectory, port });
  try {
    const fanout = await measureFanout(server, serverName, active, scale);
    const memory = await measureIdle(server, idle);
    return [...fanout, ...memory];
  } catch (error) {
    process.stderr.write(`homeserver output:\n${server.output}\n`);
    throw error;
  } finally {
    await server.stop();
    await rm(dataDirectory, { recursive: true, force: true });
  }
}
