// Several homeserver processes on loopback that federate, for the
// real-process tests and benchmarks. Every server's name is fixed before it
// starts (127.0.0.1:<its port>), so it can be restarted under the same name.
// With `proxies`, each server reaches each peer through a TCP proxy of its
// own (`federation.peer_addresses`, docs/protocol.md §12.10.1), so
// `partition` cuts exactly the links between two sides, as a network would,
// and `heal` lets them reconnect; the processes never know.

import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { RoomFederationStatus } from "../federation/room-status.ts";
import { HomeserverProcess } from "./homeserver-process.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

export interface FederationClusterOptions {
  readonly size: number;
  /** One proxy per ordered pair of servers, so pairs can be cut. */
  readonly proxies: boolean;
  /** Extra PARLEY_* settings for every server. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Servers started at once (a loaded machine starts many slowly). */
  readonly startConcurrency?: number;
  /** How long one server's start may take; default 120 s (a loaded machine). */
  readonly startTimeoutMs?: number;
}

const pollIntervalMs = 100;

/**
 * A free loopback port for a server that may be killed and restarted on it.
 * Ports the kernel hands out for outgoing connections (its ephemeral range)
 * are avoided: once the server is killed, another process's new connection
 * could take its port as a local port, and the restart would fail with
 * EADDRINUSE. Tries random ports below that range, then falls back to one
 * the kernel picks.
 */
export async function freeLoopbackPort(): Promise<number> {
  const ephemeralFirst = await ephemeralRangeStart();
  for (let attempt = 0; attempt < portAttemptsMax; attempt += 1) {
    const port =
      listeningPortsFirst + Math.floor(Math.random() * (ephemeralFirst - listeningPortsFirst));
    if (await canListen(port)) return port;
  }
  return bindAndRelease(0);
}

/** Where fixed listening ports are drawn from: above the well-known and registered ports most used. */
const listeningPortsFirst = 10_000;
const portAttemptsMax = 50;

/** The first port of the kernel's ephemeral range (Linux's default when it cannot be read). */
async function ephemeralRangeStart(): Promise<number> {
  try {
    const range = await readFile("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
    const first = Number(range.trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > listeningPortsFirst ? first : 32_768;
  } catch {
    return 32_768;
  }
}

async function canListen(port: number): Promise<boolean> {
  try {
    await bindAndRelease(port);
    return true;
  } catch {
    return false;
  }
}

function bindAndRelease(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(port, "127.0.0.1", () => {
      const address = probe.address();
      const bound = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(bound));
    });
  });
}

export async function pollUntil<Value>(
  what: string | (() => string),
  timeoutMs: number,
  check: () => Promise<Value | undefined>,
): Promise<Value> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
  const description = typeof what === "string" ? what : what();
  throw new Error(`timed out after ${timeoutMs} ms: ${description}`, { cause: lastError });
}

/** A proxy to `target` whose own port is none of `reserved` (servers not started yet). */
async function proxyAvoiding(target: string, reserved: readonly number[]): Promise<TcpProxy> {
  // Bounded: a collision with a handful of ports is rare, five in a row is not plausible.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const proxy = await startTcpProxy(target);
    if (!reserved.includes(Number(proxy.address.split(":")[1]))) return proxy;
    await proxy.close();
  }
  throw new Error("no free port for a proxy");
}

export class FederationCluster {
  readonly servers: HomeserverProcess[];
  readonly names: string[];
  /** proxies[from][to]: how server `from` reaches server `to` (absent without proxies). */
  readonly #proxies: Array<Array<TcpProxy | undefined>>;

  private constructor(
    servers: HomeserverProcess[],
    names: string[],
    proxies: Array<Array<TcpProxy | undefined>>,
  ) {
    this.servers = servers;
    this.names = names;
    this.#proxies = proxies;
  }

  static async start(options: FederationClusterOptions): Promise<FederationCluster> {
    const indexes = [...Array(options.size).keys()];
    const ports: number[] = [];
    // Sequential, so two probes never get the same port back.
    for (const _ of indexes) ports.push(await freeLoopbackPort());
    const names = ports.map((port) => `127.0.0.1:${port}`);
    const proxies: Array<Array<TcpProxy | undefined>> = indexes.map(() => []);
    const servers: HomeserverProcess[] = [];
    const cluster = new FederationCluster(servers, names, proxies);
    try {
      if (options.proxies) {
        for (const from of indexes) {
          for (const to of indexes) {
            proxies[from]?.push(
              from === to ? undefined : await proxyAvoiding(names[to] ?? "", ports),
            );
          }
        }
      }
      const startOne = async (index: number) => {
        const mapped = indexes
          .map((to) => {
            const proxy = proxies[index]?.[to];
            return proxy === undefined ? null : `${names[to]}=${proxy.address}`;
          })
          .filter((entry) => entry !== null);
        servers[index] = await HomeserverProcess.start({
          startTimeoutMs: options.startTimeoutMs ?? 120_000,
          environment: {
            PARLEY_LISTEN_PORT: String(ports[index]),
            PARLEY_SERVER_NAME: names[index] ?? "",
            PARLEY_FEDERATION_PEER_ADDRESSES: mapped.join(","),
            ...options.environment,
          },
        });
      };
      const concurrency = options.startConcurrency ?? 5;
      for (let first = 0; first < indexes.length; first += concurrency) {
        await Promise.all(indexes.slice(first, first + concurrency).map(startOne));
      }
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  server(index: number): HomeserverProcess {
    const server = this.servers[index];
    if (server === undefined) throw new Error(`no server ${index}`);
    return server;
  }

  /** Cuts every link between a server of `side` and a server outside it, both ways. */
  partition(side: readonly number[]): void {
    for (const [from, row] of this.#proxies.entries()) {
      for (const [to, proxy] of row.entries()) {
        if (proxy !== undefined && side.includes(from) !== side.includes(to)) proxy.block();
      }
    }
  }

  /** Lets every cut link connect again. */
  heal(): void {
    for (const row of this.#proxies) for (const proxy of row) proxy?.heal();
  }

  /** The room's federation as server `index` sees it (admin API). */
  async status(index: number, roomId: string): Promise<RoomFederationStatus> {
    return (await this.server(index).admin(
      `/rooms/${encodeURIComponent(roomId)}/federation`,
    )) as RoomFederationStatus;
  }

  /**
   * The index of the room's Raft leader among `candidates`: the one server
   * whose own node is leader, while no reachable candidate names another.
   */
  leader(roomId: string, candidates: readonly number[], timeoutMs: number): Promise<number> {
    let seen = "";
    return pollUntil(
      () => `a leader among ${candidates.join(",")}; last seen: ${seen}`,
      timeoutMs,
      async () => {
        const statuses = await Promise.all(
          candidates.map((index) => this.status(index, roomId).catch(() => undefined)),
        );
        seen = JSON.stringify(statuses.map((status) => status?.raft ?? null));
        const leaders = candidates.filter(
          (_, position) => statuses[position]?.raft?.role === "leader",
        );
        const [leader] = leaders;
        if (leaders.length !== 1 || leader === undefined) return undefined;
        // A follower of a quiet room may know no leader yet; none may name another.
        const agreed = statuses.every((status) => {
          const named = status?.raft?.leader ?? null;
          return named === null || named === this.names[leader];
        });
        return agreed ? leader : undefined;
      },
    );
  }

  /** Kills every process, closes the proxies and removes the data directories. */
  async dispose(): Promise<void> {
    await Promise.allSettled(this.servers.map((server) => server?.dispose()));
    await Promise.allSettled(this.#proxies.flat().map((proxy) => proxy?.close()));
  }
}
