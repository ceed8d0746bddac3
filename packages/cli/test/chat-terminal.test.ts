// `parley chat` driven in a pseudo-terminal against a real homeserver on
// loopback, with a second user on the SDK at the other end.

import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ParleyClient, type RoomMessageEvent } from "@parley/client";
import { nodeClientOptions } from "@parley/client/node";
import { parseRoomId, parseUserId } from "@parley/protocol";
import { type RunningHomeserver, startHomeserver } from "@parley/server";
import { silentLogger, testHomeserverConfig } from "@parley/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TerminalSession } from "./terminal-session.ts";

let server: RunningHomeserver;
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "parley-chat-"));
  server = await startHomeserver(
    testHomeserverConfig({
      serverName: null,
      dataDirectory: join(directory, "server"),
      sqlitePath: ":memory:",
    }),
    { logger: silentLogger(), nowMs: () => Date.now() },
  );
});

afterAll(async () => {
  await server.close();
  await rm(directory, { recursive: true, force: true });
});

const password = "a password nobody sees";

/** A user at the other end, on the SDK: records what it hears and accepts every invitation. */
async function sdkUser(userName: string) {
  const client = await ParleyClient.register(
    { baseUrl: server.url, userName, password },
    nodeClientOptions(),
  );
  const heard: RoomMessageEvent[] = [];
  client.on("message", (event) => heard.push(event));
  client.on("invite", (event) => void client.join(event.roomId));
  await client.start();
  // KeyPackages at the server before anyone adds this device to an encrypted room.
  await client.refillKeyPackages();
  return { client, heard };
}

describe("parley chat in a terminal", () => {
  it("registers, creates a room, shows what another user sends, and delivers what is typed", async () => {
    const address = server.url.replace("http://", "");
    const environment = { XDG_CONFIG_HOME: join(directory, "config") };
    const chat = new TerminalSession(
      ["chat", "--server", address, "--user", "alice", "--register"],
      environment,
    );
    try {
      await chat.waitFor(/new password for alice@localhost:\d+: /);
      chat.type(password);
      await chat.waitFor(/the same password again: /);
      chat.type(password);
      await chat.waitFor(/signed in as alice@localhost:\d+/);
      await chat.waitFor(/\* connected to http:\/\/127\.0\.0\.1:\d+/);

      chat.type("/create lunch");
      const created = await chat.waitFor(/created #lunch \((![A-Za-z0-9_-]{22})\)/);
      const roomId = parseRoomId(created[1] ?? "");

      const { client: bob, heard: bobHeard } = await sdkUser("bob");
      chat.type("/invite bob");
      await chat.waitFor(/invited bob@localhost:\d+ to #lunch/);
      await chat.waitFor(/\* bob joined #lunch/);

      await bob.send(roomId, "hi alice, from the SDK");
      await chat.waitFor(/\d\d:\d\d #lunch <bob> hi alice, from the SDK/);

      const before = chat.screen.length;
      chat.type("hello bob");
      await chat.waitFor(/\d\d:\d\d #lunch <alice> hello bob {2}✓/, { after: before });
      const fromAlice = () => bobHeard.filter((event) => !event.fromThisDevice);
      for (let waited = 0; waited < 400 && fromAlice().length === 0; waited += 1) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const aliceId = `alice@${address.replace("127.0.0.1", "localhost")}`;
      expect(fromAlice().map((event) => [event.text, event.sender])).toEqual([
        ["hello bob", aliceId],
      ]);
      // Bob's device acknowledged it: the mark becomes delivered, with the server's counts (§10.14).
      await chat.waitFor(/✓✓ 1\/1 servers, 1\/1 devices/, { after: before });

      const historyStart = chat.screen.length;
      chat.type("/history 5");
      await chat.waitFor(
        /history of #lunch, oldest first:[\s\S]*<bob> hi alice[\s\S]*<alice> hello bob/,
        {
          after: historyStart,
        },
      );
      chat.type("/members");
      await chat.waitFor(/2 in #lunch:[\s\S]*alice \(admin\)[\s\S]*bob/);
      chat.type("/nonsense");
      await chat.waitFor(/unknown command \/nonsense; \/help lists them/);
      chat.type("/quit");
      expect(await chat.exited).toBe(0);
      expect(chat.screen).not.toContain(password);
      await bob.stop();

      const deviceFile = join(
        directory,
        "config",
        "parley",
        `alice@localhost_${address.split(":")[1]}.json`,
      );
      expect((await stat(deviceFile)).mode & 0o777).toBe(0o600);
    } finally {
      chat.kill();
    }
  });

  it("resumes this machine's device without asking for the password again", async () => {
    const address = server.url.replace("http://", "");
    const environment = { XDG_CONFIG_HOME: join(directory, "config") };
    const chat = new TerminalSession(["chat", "--server", address, "--user", "alice"], environment);
    try {
      await chat.waitFor(/signed in as alice@localhost:\d+/);
      await chat.waitFor(/\*1 #lunch/);
      expect(chat.screen).not.toContain("password");

      // Alice signs in on another device, then revokes it from here by the start of its id.
      const other = await ParleyClient.login(
        { baseUrl: server.url, userName: "alice", password },
        nodeClientOptions(),
      );
      chat.type("/devices");
      await chat.waitFor(/2 devices:[\s\S]* \(this one\)/);
      expect(chat.screen).toContain(other.deviceId);
      chat.type(`/revoke ${other.deviceId.slice(0, 8)}`);
      await chat.waitFor(new RegExp(`revoked ${other.deviceId.replace(/[-]/g, "\\-")}`));
      chat.type("/devices");
      await chat.waitFor(/\[revoked \d{4}-\d\d-\d\d\]/);
      chat.type("/quit");
      expect(await chat.exited).toBe(0);
    } finally {
      chat.kill();
    }
  });

  it("creates an end-to-end encrypted room, chats in it, and says in words what it cannot decrypt", async () => {
    const address = server.url.replace("http://", "");
    const environment = { XDG_CONFIG_HOME: join(directory, "config") };
    const { client: carol, heard: carolHeard } = await sdkUser("carol");
    const chat = new TerminalSession(["chat", "--server", address, "--user", "alice"], environment);
    try {
      await chat.waitFor(/\* connected to http:\/\/127\.0\.0\.1:\d+/);
      chat.type("/create --encrypted vault");
      const created = await chat.waitFor(
        /created end-to-end encrypted room #vault \((![A-Za-z0-9_-]{22})\)/,
      );
      const vault = parseRoomId(created[1] ?? "");
      chat.type("/invite carol");
      await chat.waitFor(/\* carol joined #vault/);
      await carol.send(vault, "psst, only we can read this");
      await chat.waitFor(/\d\d:\d\d #vault <carol> psst, only we can read this/);
      const before = chat.screen.length;
      chat.type("secret reply");
      await chat.waitFor(/#vault <alice> secret reply {2}✓/, { after: before });
      for (let waited = 0; waited < 400 && carolHeard.length < 2; waited += 1) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(carolHeard.map((event) => event.text)).toContain("secret reply");

      // Carol's own encrypted room: what she said before Alice came in is not for Alice's keys.
      const { roomId: attic } = await carol.createRoom({ name: "attic", kind: "encrypted" });
      expect((await (await carol.send(attic, "before alice came")).settled()).status).toBe(
        "accepted",
      );
      await carol.invite(attic, parseUserId(`alice@${address.replace("127.0.0.1", "localhost")}`));
      await chat.waitFor(/invited you to #attic/);
      chat.type("/join attic");
      await chat.waitFor(/\* alice joined #attic/);
      const historyStart = chat.screen.length;
      chat.type("/history 5");
      await chat.waitFor(
        /<carol> \(Message could not be decrypted: it was sent before this device could read the room/,
        { after: historyStart },
      );
      chat.type("/quit");
      expect(await chat.exited).toBe(0);
    } finally {
      chat.kill();
      await carol.stop();
    }
  });
});
