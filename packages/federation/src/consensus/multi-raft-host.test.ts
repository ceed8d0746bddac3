import { type RoomId, roomIdFromBytes, type ServerName } from "@parley/protocol";
import { EMPTY_CONF_STATE, type NodeId, type Snapshot } from "@parley/raft";
import { describe, expect, it } from "vitest";
import { decodeFrame, encodeFrame } from "../frames/frame-codec.ts";
import { sponsorNodeId } from "../identity/sponsor-node-id.ts";
import { MemoryGroupStorage } from "./group-storage.ts";
import { MultiRaftHost, type RaftOutput } from "./multi-raft-host.ts";
import type { GroupApplier } from "./raft-group.ts";

const servers = ["a.test", "b.test", "c.test"] as ServerName[];
const roomCount = 30;
const rooms = Array.from({ length: roomCount }, (_, index) =>
  roomIdFromBytes(new Uint8Array(16).fill(index + 1)),
);

function applier(): GroupApplier {
  return {
    applyEntry: () => {},
    restoreSnapshot: () => {},
    snapshotData: () => new Uint8Array(),
    configurationChanged: () => {},
  };
}

interface Cluster {
  readonly hosts: Map<ServerName, MultiRaftHost>;
  readonly down: Set<ServerName>;
  /** Frames sent in the last `settle`, by sender → receiver. */
  readonly sent: RaftOutput[][];
}

function createCluster(quiesce: boolean): Cluster {
  const hosts = new Map<ServerName, MultiRaftHost>();
  let state = 7;
  for (const server of servers) {
    const host = new MultiRaftHost({
      self: server,
      storage: new MemoryGroupStorage(),
      random: {
        nextInt: (bound) => {
          state = (state * 1103515245 + 12345) % 2147483648;
          return state % bound;
        },
      },
      raft: { quiesce },
      groupWanted: () => null,
    });
    for (const peer of servers) if (peer !== server) host.setPeerAlive(peer, true);
    const voters = servers.map((name) => sponsorNodeId(name, 1)) as NodeId[];
    for (const room of rooms) {
      const bootstrap: Snapshot = {
        metadata: { index: 1, term: 1, confState: { ...EMPTY_CONF_STATE, voters } },
        data: new Uint8Array(),
      };
      host.startGroup(room, sponsorNodeId(server, 1), applier(), bootstrap);
    }
    hosts.set(server, host);
  }
  return { hosts, down: new Set(), sent: [] };
}

/** Processes every host and delivers frames (through the codec) until nothing moves. */
function settle(cluster: Cluster): RaftOutput[] {
  const all: RaftOutput[] = [];
  for (let round = 0; round < 50; round += 1) {
    const batch: Array<{ from: ServerName; output: RaftOutput }> = [];
    for (const [server, host] of cluster.hosts) {
      if (cluster.down.has(server)) continue;
      for (const output of host.process().frames) batch.push({ from: server, output });
    }
    if (batch.length === 0) break;
    for (const { from, output } of batch) {
      all.push(output);
      if (cluster.down.has(output.to)) continue;
      const frame = decodeFrame(encodeFrame(output.frame));
      const host = cluster.hosts.get(output.to);
      if (frame.type === "raft") host?.receiveRaft(from, frame);
      if (frame.type === "heartbeats") host?.receiveHeartbeats(from, frame);
    }
  }
  return all;
}

function tick(cluster: Cluster, ticks: number): RaftOutput[] {
  const all: RaftOutput[] = [];
  for (let count = 0; count < ticks; count += 1) {
    for (const [server, host] of cluster.hosts) if (!cluster.down.has(server)) host.tick();
    all.push(...settle(cluster));
  }
  return all;
}

function elect(cluster: Cluster): void {
  rooms.forEach((room, index) => {
    cluster.hosts.get(servers[index % servers.length] as ServerName)?.campaign(room);
  });
  settle(cluster);
}

function leaderOf(cluster: Cluster, room: RoomId): ServerName | undefined {
  for (const [server, host] of cluster.hosts) {
    if (!cluster.down.has(server) && host.group(room)?.role === "leader") return server;
  }
  return undefined;
}

describe("multi-raft host", () => {
  it("coalesces every group's heartbeats into one frame per peer per tick", () => {
    const cluster = createCluster(false);
    elect(cluster);
    for (const room of rooms) expect(leaderOf(cluster, room)).toBeDefined();
    const frames = tick(cluster, 3);
    const heartbeatFrames = frames.filter((output) => output.frame.type === "heartbeats");
    // Each server leads a third of the rooms and follows the rest: per tick it
    // sends one heartbeat frame to each peer (heartbeats and responses together).
    expect(heartbeatFrames.length).toBeLessThanOrEqual(
      3 * servers.length * (servers.length - 1) * 2,
    );
    const items = heartbeatFrames.reduce(
      (total, output) =>
        output.frame.type === "heartbeats"
          ? total + output.frame.heartbeats.length + output.frame.responses.length
          : total,
      0,
    );
    expect(items).toBeGreaterThanOrEqual(3 * roomCount * 2 * 2);
  });

  it("lets idle groups go quiet and stops ticking them", () => {
    const cluster = createCluster(true);
    elect(cluster);
    tick(cluster, 5);
    for (const host of cluster.hosts.values()) expect(host.awakeCount).toBe(0);
    expect(tick(cluster, 10)).toEqual([]);
  });

  it("wakes only the groups a dead server led, not every idle group", () => {
    const cluster = createCluster(true);
    elect(cluster);
    tick(cluster, 5);
    const dead = servers[0] as ServerName;
    cluster.down.add(dead);
    for (const [server, host] of cluster.hosts) if (server !== dead) host.setPeerAlive(dead, false);
    settle(cluster);
    const led = rooms.filter((_, index) => index % servers.length === 0).length;
    for (const [server, host] of cluster.hosts) {
      if (server !== dead) expect(host.awakeCount).toBe(led);
    }
    tick(cluster, 40);
    for (const room of rooms) expect(leaderOf(cluster, room)).not.toBe(dead);
    for (const room of rooms) expect(leaderOf(cluster, room)).toBeDefined();
    // Once new leaders are elected, the groups go quiet again despite the dead voter.
    tick(cluster, 10);
    for (const [server, host] of cluster.hosts)
      if (server !== dead) expect(host.awakeCount).toBe(0);
  });
});
