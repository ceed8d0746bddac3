import { checkCertificate, encodeHex, sha256 } from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import { encodeRoomSnapshot } from "@parley/room";
import { RoomReplica } from "../control-lane/room-replica.ts";
import { sharedSecretKeys } from "../control-lane/shared-secret-keys.ts";
import { serverOfNode, sponsorNodeId } from "../identity/sponsor-node-id.ts";
import { visibleHistory } from "../message-lane/history-order.ts";
import { messageKey } from "../message-lane/stamped-message.ts";
import type { World } from "./run-seed.ts";
import { simulationSecretOf } from "./simulated-server.ts";

interface ServerView {
  readonly name: string;
  /** The server runs a node exactly when its state names it a sponsor, under that incarnation. */
  readonly roleMatches: boolean;
  readonly appliedIndex: number;
  readonly stored: number;
  readonly held: number;
  readonly marks: string;
  /** The index of the server's newest certificate (0: none). */
  readonly certifiedIndex: number;
}

function views(world: World): ServerView[] | null {
  const room = world.room;
  if (room === null) return null;
  const result: ServerView[] = [];
  for (const server of world.servers) {
    const session = server.host?.session(room);
    if (session === undefined) return null;
    const incarnation = session.replica.incarnationOf(server.name);
    const node = session.group?.id;
    result.push({
      name: server.name,
      roleMatches:
        incarnation === undefined
          ? node === undefined
          : node === sponsorNodeId(server.name, incarnation),
      appliedIndex: session.replica.appliedIndex,
      stored: server.storage.messages(room).size,
      held: session.lane.heldCount,
      certifiedIndex: session.certificate?.index ?? 0,
      marks: session.lane
        .marks()
        .map((mark) => `${mark.origin}:${mark.sequence}`)
        .join(","),
    });
  }
  return result;
}

/** Whether every server holds the same control index and the same messages, with nothing held back. */
export function isConverged(world: World): boolean {
  const all = views(world);
  const first = all?.[0];
  if (all === null || first === undefined) return false;
  return all.every(
    (view) =>
      view.appliedIndex === first.appliedIndex &&
      view.stored === first.stored &&
      view.marks === first.marks &&
      view.held === 0 &&
      view.certifiedIndex === view.appliedIndex &&
      view.roleMatches,
  );
}

/**
 * After the heal: every server converged; every message a sender was told is
 * accepted is on every server; every server shows the same history, in the
 * same order, each client message once; every server's state equals what the
 * control log produces.
 */
export function checkConvergence(world: World): void {
  const { observer } = world;
  const room = world.room;
  if (room === null) return;
  if (!isConverged(world)) {
    const summary = (views(world) ?? [])
      .map(
        (view) =>
          `${view.name} index ${view.appliedIndex} certified ${view.certifiedIndex} stored ${view.stored} held ${view.held}${view.roleMatches ? "" : " (its node does not match the sponsor set)"}`,
      )
      .join("; ");
    observer.violate(`not converged after the heal: ${summary}`);
    return;
  }
  let reference: string | undefined;
  for (const server of world.servers) {
    const store = server.storage.messages(room);
    for (const key of observer.acceptedKeys) {
      const [origin, sequence] = splitKey(key);
      if (store.get({ origin, sequence: Number(sequence) }) === undefined) {
        observer.violate(`${server.name} lacks accepted message ${key}`);
      }
    }
    const history = visibleHistory(store.all()).map(messageKey).join(" ");
    if (reference === undefined) reference = history;
    else if (history !== reference) observer.violate(`${server.name} shows a different history`);
    observer.checkState(server);
    checkReplay(world, server);
    checkCertified(world, server);
  }
}

/**
 * Every server's newest certificate verifies — a majority of the sponsor set
 * at its index signed the chain hash there — and every leaf's applied state
 * is exactly what that certificate covers (a leaf applies nothing else).
 */
function checkCertified(world: World, server: World["servers"][number]): void {
  const room = world.room;
  const session = room === null ? undefined : server.host?.session(room);
  if (room === null || session === undefined) return;
  const { replica, certificate } = session;
  if (certificate === null) {
    world.observer.violate(`${server.name} holds no certificate after the heal`);
    return;
  }
  const isLeaf = !session.isSponsor;
  if (isLeaf && certificate.index !== replica.appliedIndex) {
    world.observer.violate(
      `${server.name} (leaf) applied ${replica.appliedIndex} but its certificate is at ${certificate.index}`,
    );
    return;
  }
  if (certificate.index !== replica.appliedIndex) return;
  const keys = sharedSecretKeys(server.name, simulationSecretOf);
  const at = { index: replica.appliedIndex, chainHash: replica.chainHash };
  const check = checkCertificate(room, certificate, at, replica.sponsors, keys);
  if (check.kind !== "certified") {
    world.observer.violate(`${server.name}'s certificate at ${certificate.index} does not verify`);
  }
}

/** The server's state must be exactly what applying its retained control records from index 1 gives. */
function checkReplay(world: World, server: World["servers"][number]): void {
  const room = world.room;
  const replica = room === null ? undefined : server.host?.session(room)?.replica;
  const state = replica?.state;
  if (room === null || replica === undefined || state === undefined) return;
  const records = replica.recordsAfter(0, Number.MAX_SAFE_INTEGER);
  if (records === null) return;
  const replay = RoomReplica.empty(room);
  for (const at of records) replay.apply(at.record);
  const replayed = replay.state;
  if (replayed === undefined) return;
  const expected = encodeHex(sha256(encodeRoomSnapshot(replayed)));
  const actual = encodeHex(sha256(encodeRoomSnapshot(state)));
  if (expected !== actual)
    world.observer.violate(`${server.name}'s state is not what its log gives`);
}

/**
 * In the steady phase (no faults, views settled) every server receives each
 * new message exactly once — sponsors along the tree, leaves from their
 * sponsor — and the origin never gets its own message back.
 */
export function checkSteadyCopies(world: World): void {
  const { observer, scenario } = world;
  if (observer.steadyKeys.size !== scenario.steadyMessages) {
    observer.violate(
      `${observer.steadyKeys.size} of ${scenario.steadyMessages} steady messages were accepted`,
    );
  }
  for (const key of observer.steadyKeys) {
    const [origin] = splitKey(key);
    const originServer = serverOfNode(origin);
    for (const server of world.servers) {
      const copies = observer.copies.get(server.name)?.get(key) ?? 0;
      const expected = server.name === originServer ? 0 : 1;
      if (copies !== expected) {
        observer.violate(
          `${server.name} received ${copies} copies of ${key} (expected ${expected})`,
        );
      }
    }
  }
}

function splitKey(key: string): [NodeId, string] {
  const slash = key.lastIndexOf("/");
  return [key.slice(0, slash) as NodeId, key.slice(slash + 1)];
}
