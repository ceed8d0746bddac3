/**
 * The anchor: a three-member etcd cluster (Debian's etcd-server package) on
 * loopback ports with temporary data directories, started and stopped here,
 * loaded with the same concurrency and payload size as our load by a Node
 * client speaking etcd's native gRPC API (KV/Put over node:http2, the
 * protobuf encoded by hand: no client library needed). The leader is found
 * through the HTTP/JSON gateway. Latency is measured by the client, so unlike
 * ours it includes the client's hop to the leader.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { type ClientHttp2Session, connect } from "node:http2";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { percentile } from "../harness.ts";
import { killAndWait, registerChild, registerDirectory } from "./children.ts";
import type { LoadOptions, LoadResult } from "./load.ts";

const HOST = "127.0.0.1";
const STARTUP_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** HTTP/2 connections the load is spread over (etcd allows unbounded streams on each). */
const GRPC_SESSIONS = 8;

/** etcd's version line, or null with the reason it cannot be run. */
export function findEtcd(): { readonly version: string } | { readonly missing: string } {
  const probe = spawnSync("etcd", ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (probe.error !== undefined || probe.status !== 0) {
    return {
      missing: "etcd is not installed (apt-get install etcd-server etcd-client to compare)",
    };
  }
  return { version: probe.stdout.split("\n")[0]?.trim() ?? "etcd" };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === "string") reject(new Error("no port"));
        else resolve(address.port);
      });
    });
  });
}

interface Member {
  readonly name: string;
  readonly clientPort: number;
  readonly child: ChildProcess;
}

export class EtcdCluster {
  private readonly members: Member[] = [];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4096 });

  private readonly directoryRegistration: { release(): void };

  private constructor(private readonly directory: string) {
    this.directoryRegistration = registerDirectory(directory);
  }

  static async start(size: number): Promise<EtcdCluster> {
    const cluster = new EtcdCluster(mkdtempSync(join(tmpdir(), "parley-etcd-bench-")));
    try {
      await cluster.launch(size);
      return cluster;
    } catch (error) {
      await cluster.close();
      throw error;
    }
  }

  private async launch(size: number): Promise<void> {
    const names = Array.from({ length: size }, (_, i) => `m${i + 1}`);
    const ports: { client: number; peer: number }[] = [];
    for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort() });
    const initialCluster = names
      .map((name, i) => `${name}=http://${HOST}:${ports[i]?.peer ?? 0}`)
      .join(",");
    names.forEach((name, i) => {
      const port = ports[i] ?? { client: 0, peer: 0 };
      const client = `http://${HOST}:${port.client}`;
      const peer = `http://${HOST}:${port.peer}`;
      const child = spawn(
        "etcd",
        [
          `--name=${name}`,
          `--data-dir=${join(this.directory, name)}`,
          `--listen-client-urls=${client}`,
          `--advertise-client-urls=${client}`,
          `--listen-peer-urls=${peer}`,
          `--initial-advertise-peer-urls=${peer}`,
          `--initial-cluster=${initialCluster}`,
          "--initial-cluster-token=parley-bench",
          "--initial-cluster-state=new",
          "--logger=zap",
          "--log-level=error",
        ],
        { stdio: ["ignore", "ignore", "ignore"] },
      );
      registerChild(child);
      this.members.push({ name, clientPort: port.client, child });
    });
    const deadline = performance.now() + STARTUP_TIMEOUT_MS;
    while ((await this.leaderPort()) === null) {
      if (performance.now() > deadline) throw new Error("etcd did not elect a leader in time");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private post(port: number, path: string, body: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const call = request(
        { host: HOST, port, path, method: "POST", agent: this.agent, timeout: REQUEST_TIMEOUT_MS },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (response.statusCode === 200) resolve(text);
            else reject(new Error(`etcd ${path}: ${response.statusCode} ${text}`));
          });
        },
      );
      call.on("timeout", () => call.destroy(new Error(`etcd ${path} timed out`)));
      call.on("error", reject);
      call.end(body);
    });
  }

  /** The client port of the member that leads, or null if none does (yet). */
  async leaderPort(): Promise<number | null> {
    for (const member of this.members) {
      try {
        const answer = await this.post(member.clientPort, "/v3/maintenance/status", "{}");
        const status = JSON.parse(answer) as { leader?: string; header?: { member_id?: string } };
        if (status.leader !== undefined && status.leader === status.header?.member_id) {
          return member.clientPort;
        }
      } catch {
        // Not up yet.
      }
    }
    return null;
  }

  /** Puts `count` keys (or for `durationMs`) with `concurrency` requests in flight on the leader. */
  async load(options: LoadOptions): Promise<LoadResult> {
    const port = await this.leaderPort();
    if (port === null) throw new Error("etcd has no leader");
    const sessions = Array.from({ length: Math.min(GRPC_SESSIONS, options.concurrency) }, () =>
      connect(`http://${HOST}:${port}`),
    );
    const value = Buffer.alloc(options.payloadBytes, 0x61);
    const latencies: number[] = [];
    let issued = 0;
    const start = performance.now();
    const stopAt = start + options.durationMs;
    let lastMs = start;
    const worker = async (index: number): Promise<void> => {
      const session = sessions[index % sessions.length];
      if (session === undefined) return;
      while (issued < options.count && performance.now() < stopAt) {
        const key = Buffer.from(`bench/${issued++ % 100_000}`);
        const sent = performance.now();
        await grpcPut(session, key, value);
        lastMs = performance.now();
        latencies.push(lastMs - sent);
      }
    };
    try {
      await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
    } finally {
      for (const session of sessions) session.close();
    }
    const elapsedMs = Math.max(lastMs - start, 1e-3);
    return {
      committed: latencies.length,
      elapsedMs,
      entriesPerSecond: (latencies.length * 1000) / elapsedMs,
      latencyP50Ms: latencies.length === 0 ? Number.NaN : percentile(latencies, 50),
      latencyP99Ms: latencies.length === 0 ? Number.NaN : percentile(latencies, 99),
    };
  }

  /** Kills every member, waits for them to exit, and removes the data directories. */
  async close(): Promise<void> {
    this.agent.destroy();
    await Promise.all(this.members.map((member) => killAndWait(member.child)));
    rmSync(this.directory, { recursive: true, force: true, maxRetries: 3 });
    this.directoryRegistration.release();
  }
}

/** A protobuf length-delimited field: tag, varint length, bytes. */
function protobufBytesField(field: number, bytes: Buffer): Buffer {
  const header: number[] = [(field << 3) | 2];
  let length = bytes.length;
  while (length >= 0x80) {
    header.push((length & 0x7f) | 0x80);
    length >>>= 7;
  }
  header.push(length);
  return Buffer.concat([Buffer.from(header), bytes]);
}

/** etcdserverpb.KV/Put with PutRequest { key = 1; value = 2 }, in one gRPC frame. */
function grpcPut(session: ClientHttp2Session, key: Buffer, value: Buffer): Promise<void> {
  const message = Buffer.concat([protobufBytesField(1, key), protobufBytesField(2, value)]);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/etcdserverpb.KV/Put",
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.setTimeout(REQUEST_TIMEOUT_MS, () => stream.close());
    let status: string | undefined;
    stream.on("response", (headers) => {
      status ??= headers["grpc-status"]?.toString();
    });
    stream.on("trailers", (trailers) => {
      status = trailers["grpc-status"]?.toString();
    });
    stream.on("data", () => {});
    stream.on("error", reject);
    stream.on("close", () => {
      if (status === "0") resolve();
      else reject(new Error(`etcd put failed: grpc-status ${status ?? "missing"}`));
    });
    stream.end(frame);
  });
}
