// Which user a message's device belongs to, across servers (docs/protocol.md
// §12.14): two real homeservers (A and B, both sponsors of one room) on the
// in-process network and C, a raw server that speaks frames by hand and
// publishes whatever device lists it likes — the malicious (or compromised)
// homeserver. Sponsors refuse to stamp a message whose device the sender's
// homeserver does not bind to the sender (a device of another user, a list
// with a forged attestation) or has revoked; a receiving server refuses to
// show a message stamped by a sponsor that had not yet heard of a revocation.
// B believes device lists for no time at all, A for the default minute.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newDevice, ParleyClient } from "@parley/cli/client";
import { encodeFrame, type ReceiptsFrame } from "@parley/federation";
import {
  type KeyPair,
  makeUserId,
  nobleSignatureProvider,
  parseServerName,
  parseUserId,
  type RoomId,
  type ServerName,
  signRoomMessage,
  verifyDeviceList,
  verifyServerKeyDocument,
} from "@parley/protocol";
import { encodeControlEntry } from "@parley/room";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InProcessNetwork } from "../../src/federation/links/in-process-links.ts";
import type { RunningHomeserver } from "../../src/process/homeserver.ts";
import {
  eventually,
  inProcessConfig,
  registerUser,
  startInProcessHomeserver,
  testPassword,
} from "./in-process-servers.ts";
import { PublishingServer } from "./published-devices.ts";
import { RawServer } from "./raw-server.ts";

const provider = nobleSignatureProvider;
const network = new InProcessNetwork();
const a = parseServerName("a.test");
const b = parseServerName("b.test");
const c = parseServerName("c.test");
const carolId = makeUserId("carol", c);
let directory: string;
let serverA: RunningHomeserver;
let serverB: RunningHomeserver;
let alice: ParleyClient;
let bob: ParleyClient;
let roomId: RoomId;
let raw: RawServer;
let home: PublishingServer;

const phone = provider.generateKeyPair();
const stolen = provider.generateKeyPair();
const lost = provider.generateKeyPair();
/** Dan's device, also of C: bound to dan, not to carol. */
const dansDevice = provider.generateKeyPair();
/** Carol's records as C publishes them honestly. */
const carolRecords: Uint8Array[] = [];
const carolRevocations: Uint8Array[] = [];

function publishCarol(): void {
  home.publish(carolId, carolRecords, carolRevocations);
}

/** C's user carol sends `clientId`, signed by `device`, through `sponsor`. */
async function send(sponsor: ServerName, device: KeyPair, clientId: string) {
  const body = signRoomMessage(provider, device, {
    roomId,
    contentType: "text/plain",
    body: new TextEncoder().encode(clientId),
    clientId,
    sentAtMs: Date.now(),
  });
  const requestId = await raw.submit(sponsor, {
    room: roomId,
    submission: { kind: "message", sender: carolId, clientMessageId: clientId, body },
  });
  return raw.answer(sponsor, requestId);
}

async function historyOf(client: ParleyClient): Promise<string[]> {
  const history = await client.request<{ events: Array<{ clientId?: string | null }> }>(
    "GET",
    `/rooms/${roomId}/history?limit=100`,
  );
  return history.events.flatMap((event) =>
    typeof event.clientId === "string" ? [event.clientId] : [],
  );
}

/** Refusal codes B reported to C in its receipts, for messages of `room`. */
function refusalsFromB(): string[] {
  return raw
    .from(b)
    .filter((frame): frame is ReceiptsFrame => frame.type === "receipts")
    .flatMap((frame) => frame.rooms.filter((room) => room.room === roomId))
    .flatMap((room) => room.receipts.flatMap((receipt) => receipt.refused))
    .map(([, code]) => code);
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "parley-devices-"));
  serverA = await startInProcessHomeserver(inProcessConfig(directory, a), network);
  serverB = await startInProcessHomeserver(inProcessConfig(directory, b), network, {
    deviceListLifetimeMs: 0,
  });
  raw = new RawServer(network, c);
  home = new PublishingServer(c);
  carolRecords.push(home.record(carolId, phone), home.record(carolId, stolen));
  publishCarol();
  home.publish("dan@c.test", [home.record("dan@c.test", dansDevice)]);
  alice = await registerUser("alice", serverA.url, a);
  bob = await registerUser("bob", serverB.url, b);
  ({ roomId } = await alice.createRoom({ clientId: "room", name: "open", joinRule: "open" }));
  await alice.act(roomId, { type: "invite", target: "bob@b.test" });
  await eventually(async () =>
    (await bob.request<{ rooms: Array<{ roomId: string }> }>("GET", "/rooms")).rooms.some(
      (room) => room.roomId === roomId,
    ),
  );
  await bob.act(roomId, { type: "join" });
  await eventually(async () => {
    const state = await alice.request<{ sponsors: string[] }>("GET", `/rooms/${roomId}`);
    return state.sponsors.includes(b);
  });
  const joinEntry = encodeControlEntry({
    actor: { type: "user", user: carolId },
    action: { type: "join" },
    proposedAtMs: Date.now(),
  });
  const joined = await raw.submit(a, {
    room: roomId,
    submission: { kind: "control", entry: joinEntry },
  });
  expect(await raw.answer(a, joined)).toMatchObject({ kind: "proposed" });
  await eventually(async () => {
    const state = await bob.request<{ members: Array<{ userId: string; membership: string }> }>(
      "GET",
      `/rooms/${roomId}/members`,
    );
    return state.members.some((one) => one.userId === carolId && one.membership === "joined");
  });
});

afterAll(async () => {
  await serverA?.close();
  await serverB?.close();
  await rm(directory, { recursive: true, force: true });
});

describe("a homeserver's device list", () => {
  it("is served over HTTP, verifies against the server's key document, and lists revocations", async () => {
    const documentBytes = new Uint8Array(
      await (await fetch(`${serverA.url}/.well-known/parley/server`)).arrayBuffer(),
    );
    const serverKeys = verifyServerKeyDocument(documentBytes, {
      provider,
      nowMs: Date.now(),
      expectedServer: a,
    });
    const aliceId = parseUserId("alice@a.test");
    const url = `${serverA.url}/_parley/federation/v1/users/${encodeURIComponent(aliceId)}/devices`;
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const list = verifyDeviceList(bytes, {
      user: aliceId,
      provider,
      serverKeys,
      nowMs: Date.now(),
    });
    expect([...list.bound]).toEqual([alice.device.deviceId]);
    const unknown = await fetch(url.replace("alice", "nobody"));
    expect(unknown.status).toBe(404);
    // Alice's second device, revoked by her first: the list says so, signed by A.
    const second = new ParleyClient({ baseUrl: serverA.url, serverName: a, device: newDevice() });
    await second.login("alice", testPassword);
    await alice.request("DELETE", `/devices/${second.device.deviceId}`);
    const after = verifyDeviceList(new Uint8Array(await (await fetch(url)).arrayBuffer()), {
      user: aliceId,
      provider,
      serverKeys,
      nowMs: Date.now(),
    });
    expect([...after.bound]).toEqual([alice.device.deviceId]);
    expect([...after.revokedAtMs.keys()]).toEqual([second.device.deviceId]);
  });
});

describe("a sponsor, before stamping a leaf's message", () => {
  it("stamps a message from a device the sender's homeserver binds to the sender", async () => {
    expect(await send(b, phone, "phone-1")).toMatchObject({ kind: "accepted" });
  });

  it("refuses a device its homeserver binds to another user", async () => {
    expect(await send(b, dansDevice, "dans-device")).toMatchObject({
      kind: "refused",
      code: "user_mismatch",
    });
  });

  it("refuses every device of a sender whose list carries a forged attestation", async () => {
    const impostorKey = provider.generateKeyPair();
    const forged = home.record(carolId, provider.generateKeyPair(), impostorKey);
    home.publish(carolId, [...carolRecords, forged], carolRevocations);
    expect(await send(b, phone, "while-forged")).toMatchObject({
      kind: "refused",
      code: "user_mismatch",
    });
    publishCarol();
    expect(await send(b, phone, "phone-2")).toMatchObject({ kind: "accepted" });
  });

  it("refuses a device once its revocation is published", async () => {
    expect(await send(b, stolen, "stolen-before")).toMatchObject({ kind: "accepted" });
    carolRevocations.push(home.revocation(carolId, stolen, Date.now()));
    publishCarol();
    expect(await send(b, stolen, "stolen-after")).toMatchObject({
      kind: "refused",
      code: "device_revoked",
    });
    const stored = (await historyOf(bob)).filter((id) => id.startsWith("stolen"));
    expect(stored).toEqual(["stolen-before"]);
  });
});

describe("a revocation pushed by the user's homeserver", () => {
  it("reaches a sponsor before its cached list expires", async () => {
    const pushed = provider.generateKeyPair();
    carolRecords.push(home.record(carolId, pushed));
    publishCarol();
    expect(await send(a, pushed, "pushed-before")).toMatchObject({ kind: "accepted" });
    carolRevocations.push(home.revocation(carolId, pushed, Date.now()));
    publishCarol();
    // A believes its list for a minute: only the push can tell it now.
    await raw.links.send(
      a,
      encodeFrame({ type: "device-list", user: carolId, list: home.listOf(carolId) }),
      "durable",
    );
    let attempt = 0;
    let last: Awaited<ReturnType<typeof send>> | undefined;
    await eventually(async () => {
      attempt += 1;
      last = await send(a, pushed, `pushed-after-${attempt}`);
      return last.kind === "refused";
    });
    expect(last).toMatchObject({ kind: "refused", code: "device_revoked" });
  });

  it("is sent by a real homeserver to the servers of its rooms when a device is revoked", async () => {
    const frameCount = async () => {
      const text = await (await fetch(`${serverB.url}/metrics`)).text();
      const line = text
        .split("\n")
        .find(
          (one) =>
            one.startsWith("parley_federation_frame_types_total") &&
            one.includes('direction="in"') &&
            one.includes('type="device-list"'),
        );
      return Number(line?.split(" ").at(-1) ?? 0);
    };
    const before = await frameCount();
    const third = new ParleyClient({ baseUrl: serverA.url, serverName: a, device: newDevice() });
    await third.login("alice", testPassword);
    await alice.request("DELETE", `/devices/${third.device.deviceId}`);
    await eventually(async () => (await frameCount()) > before);
  });
});

describe("a receiving server, before showing a stamped message", () => {
  it("refuses a revoked device's message that a sponsor with an old list stamped", async () => {
    carolRecords.push(home.record(carolId, lost));
    publishCarol();
    expect(await send(a, lost, "lost-before")).toMatchObject({ kind: "accepted" });
    await eventually(async () => (await historyOf(bob)).includes("lost-before"));
    carolRevocations.push(home.revocation(carolId, lost, Date.now()));
    publishCarol();
    // A believes its list of carol for a minute and stamps on; B fetches again on every message.
    const late = ["lost-1", "lost-2", "lost-3"];
    for (const clientId of late) {
      expect(await send(a, lost, clientId)).toMatchObject({ kind: "accepted" });
      await eventually(async () => (await historyOf(alice)).includes(clientId));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await eventually(async () => refusalsFromB().includes("device_revoked"));
    expect(await historyOf(alice)).toEqual(expect.arrayContaining(late));
    // By the last message B held the revocation: it never shows it.
    expect(await historyOf(bob)).not.toContain("lost-3");
    expect(await historyOf(bob)).toContain("lost-before");
  });
});
