// The operator's admin API through its routes, without a socket (Fastify
// inject on an in-memory database): invite tokens, users, rooms and blocks.

import { ParleyError } from "@parley/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { adminApiPrefix } from "../../src/http/admin-routes.ts";
import { type InProcessApi, registration, serverName, startInProcess } from "./in-process.ts";

interface Invite {
  readonly token: string;
  readonly tokenId: string;
  readonly usesLeft: number;
  readonly expiresAtMs: number | null;
  readonly createdAtMs: number;
}

const running: InProcessApi[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((api) => api.close()));
});

async function start(overrides: Parameters<typeof startInProcess>[0] = {}): Promise<InProcessApi> {
  const api = await startInProcess(overrides);
  running.push(api);
  return api;
}

function admin(api: InProcessApi, method: "GET" | "POST" | "DELETE", path: string, body?: unknown) {
  return api.call(method, path, {
    prefix: adminApiPrefix,
    token: api.adminToken,
    ...(body === undefined ? {} : { body }),
  });
}

async function register(api: InProcessApi, userName: string, inviteToken?: string) {
  const { body } = registration(userName);
  return api.call("POST", "/register", {
    body: { ...body, ...(inviteToken === undefined ? {} : { inviteToken }) },
  });
}

/** An open room "general" made by the holder of `token`; its id. */
async function openRoom(api: InProcessApi, token: string): Promise<string> {
  const room = await api.call("POST", "/rooms", {
    token,
    body: {
      clientId: "r1",
      name: "general",
      topic: "",
      contentType: "text/plain",
      joinRule: "open",
    },
  });
  return String((room.body as { roomId?: unknown }).roomId);
}

describe("admin API", () => {
  it("answers unauthorized without the admin token and logs the attempt without secrets", async () => {
    const api = await start();
    const none = await api.call("GET", "/users", { prefix: adminApiPrefix });
    expect(none).toMatchObject({ status: 401, body: { code: "unauthorized" } });
    const wrong = await api.call("GET", "/users", {
      prefix: adminApiPrefix,
      token: "not-the-admin-token",
    });
    expect(wrong).toMatchObject({ status: 401, body: { code: "unauthorized" } });
    // A user's access token is not an admin token either.
    const user = await register(api, "alice");
    const asUser = await api.call("GET", "/users", {
      prefix: adminApiPrefix,
      token: String(user.body.accessToken),
    });
    expect(asUser.status).toBe(401);
    const attempts = api.logLines.filter((line) => line.includes('"admin_unauthorized"'));
    expect(attempts).toHaveLength(3);
    expect(api.logLines.join("")).not.toContain("not-the-admin-token");
    expect((await admin(api, "GET", "/nowhere")).body.code).toBe("not_found");
  });

  it("creates invite tokens that invite-only registration spends, lists and revokes them", async () => {
    const api = await start({ registration: { mode: "invite-only" } });
    const created = await admin(api, "POST", "/invites", { uses: 2, expiresInMs: 60_000 });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      tokenId: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      usesLeft: 2,
    });
    const invite = created.body as unknown as Invite;
    expect(Number(invite.expiresAtMs) - invite.createdAtMs).toBe(60_000);
    const token = invite.token;
    expect((await register(api, "alice", token)).status).toBe(200);
    expect((await register(api, "bob", token)).status).toBe(200);
    expect((await register(api, "carol", token)).body.code).toBe("forbidden");

    const otherResponse = await admin(api, "POST", "/invites", {});
    expect(otherResponse.body).toMatchObject({ usesLeft: 1, expiresAtMs: null });
    const other = otherResponse.body as unknown as Invite;
    const listed = (await admin(api, "GET", "/invites")).body as unknown as {
      invites: Array<{ tokenId: string; usable: boolean }>;
      more: boolean;
    };
    expect(listed.more).toBe(false);
    expect(listed.invites).toHaveLength(2);
    const usable = (tokenId: string) =>
      listed.invites.find((item) => item.tokenId === tokenId)?.usable;
    expect(usable(invite.tokenId)).toBe(false);
    expect(usable(other.tokenId)).toBe(true);

    const revoked = await admin(api, "DELETE", `/invites/${other.tokenId}`);
    expect(revoked).toMatchObject({ status: 200, body: { revoked: true } });
    expect((await register(api, "dave", other.token)).body.code).toBe("forbidden");
    const again = await admin(api, "DELETE", `/invites/${other.tokenId}`);
    expect(again).toMatchObject({ status: 404, body: { code: "not_found" } });
    expect((await admin(api, "DELETE", "/invites/short")).body.code).toBe("bad_structure");
    expect((await admin(api, "POST", "/invites", { uses: 0 })).body.code).toBe("bad_structure");

    const audit = api.logLines.filter((line) => line.includes('"audit":"invite_'));
    expect(audit).toHaveLength(3);
    expect(api.logLines.join("")).not.toContain(token);
  });

  it("lists users page by page and deactivates one: sessions end, login is refused, the name stays taken", async () => {
    const api = await start();
    const sessions = new Map<string, string>();
    for (const name of ["carol", "alice", "bob"]) {
      sessions.set(name, String((await register(api, name)).body.accessToken));
    }
    const first = await admin(api, "GET", "/users?limit=2");
    expect(first.body).toMatchObject({
      users: [
        { userId: `alice@${serverName}`, userName: "alice", deactivatedAtMs: null, liveDevices: 1 },
        { userName: "bob" },
      ],
      more: true,
      next: "bob",
    });
    const rest = await admin(api, "GET", "/users?limit=2&after=bob");
    expect(rest.body).toMatchObject({ users: [{ userName: "carol" }], more: false });

    const bobToken = sessions.get("bob") ?? "";
    expect((await api.call("GET", "/devices", { token: bobToken })).status).toBe(200);
    const deactivated = await admin(api, "POST", "/users/bob/deactivate");
    expect(deactivated.body).toMatchObject({
      userId: `bob@${serverName}`,
      devicesRevoked: 1,
      alreadyDeactivated: false,
    });
    expect((await api.call("GET", "/devices", { token: bobToken })).body.code).toBe("unauthorized");
    const { body } = registration("bob");
    const login = await api.call("POST", "/login", {
      body: { userName: "bob", password: body.password, deviceRecord: body.deviceRecord },
    });
    expect(login.body.code).toBe("unauthorized");
    expect((await register(api, "bob")).body.code).toBe("conflict");
    const again = await admin(api, "POST", "/users/bob/deactivate");
    expect(again.body).toMatchObject({ devicesRevoked: 0, alreadyDeactivated: true });
    expect((await admin(api, "POST", "/users/nobody/deactivate")).status).toBe(404);
    const listed = await admin(api, "GET", "/users?after=alice&limit=1");
    expect(listed.body).toMatchObject({ users: [{ userName: "bob", liveDevices: 0 }] });
    expect(api.logLines.filter((line) => line.includes('"user_deactivated"'))).toHaveLength(1);
  });

  it("lists rooms with their joined member counts", async () => {
    const api = await start();
    const alice = String((await register(api, "alice")).body.accessToken);
    const bob = String((await register(api, "bob")).body.accessToken);
    const roomId = await openRoom(api, alice);
    await api.call("POST", `/rooms/${roomId}/actions`, {
      token: bob,
      body: { action: { type: "join" } },
    });
    const listed = await admin(api, "GET", "/rooms");
    expect(listed.body).toMatchObject({
      rooms: [{ roomId, kind: "plain", contentType: "text/plain", joinedMembers: 2 }],
      more: false,
      next: roomId,
    });
  });

  it("shows a room's federation: this server sponsors it alone and leads its Raft group", async () => {
    const api = await start();
    const alice = String((await register(api, "alice")).body.accessToken);
    const roomId = await openRoom(api, alice);
    const status = await admin(api, "GET", `/rooms/${roomId}/federation`);
    expect(status.body).toMatchObject({
      roomId,
      role: "sponsor",
      sponsors: [serverName],
      raft: { role: "leader", leader: serverName },
      attachedTo: null,
    });
    expect(Number(status.body["appliedIndex"])).toBeGreaterThanOrEqual(1);
    const otherRoom = "!AAECAwQFBgcICQoLDA0ODw";
    expect((await admin(api, "GET", `/rooms/${otherRoom}/federation`)).body.code).toBe("not_found");
    expect((await admin(api, "GET", "/rooms/not-a-room/federation")).body.code).toBe(
      "bad_structure",
    );
  });

  it("blocks and unblocks servers; the block list refuses their attestations at once", async () => {
    const api = await start();
    const blocked = await admin(api, "POST", "/blocks", {
      server: "spam.example",
      reason: "floods",
    });
    expect(blocked.body).toMatchObject({
      server: "spam.example",
      reason: "floods",
      alreadyBlocked: false,
    });
    expect(api.blockList.isBlocked("spam.example")).toBe(true);
    expect(() => api.blockList.refuseAttestedBy("spam.example")).toThrow(ParleyError);
    expect(() => api.blockList.refuseAttestedBy("friends.example")).not.toThrow();
    const twice = await admin(api, "POST", "/blocks", { server: "spam.example" });
    expect(twice.body).toMatchObject({ reason: "floods", alreadyBlocked: true });
    expect((await admin(api, "POST", "/blocks", { server: serverName })).body.code).toBe(
      "conflict",
    );
    expect((await admin(api, "POST", "/blocks", { server: "Not A Name" })).body.code).toBe(
      "bad_structure",
    );
    const listed = await admin(api, "GET", "/blocks");
    expect(listed.body).toMatchObject({
      blocks: [{ server: "spam.example", reason: "floods" }],
      more: false,
    });
    expect((await admin(api, "DELETE", "/blocks/spam.example")).body).toEqual({ unblocked: true });
    expect(api.blockList.isBlocked("spam.example")).toBe(false);
    expect((await admin(api, "DELETE", "/blocks/spam.example")).status).toBe(404);
    expect(api.logLines.filter((line) => line.includes('"audit":"server_'))).toHaveLength(2);
  });

  it("rate-limits admin requests per address with a retry time", async () => {
    const api = await start();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 45; attempt += 1) {
      statuses.push((await admin(api, "GET", "/blocks")).status);
    }
    expect(statuses.slice(0, 40).every((status) => status === 200)).toBe(true);
    const refused = await admin(api, "GET", "/blocks");
    expect(refused).toMatchObject({ status: 429, body: { code: "rate_limited" } });
    expect(Number(refused.body.retryAfterMs)).toBeGreaterThan(0);
  });
});
