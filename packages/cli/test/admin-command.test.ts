// `parley admin` as an operator runs it, against a real `parley server`
// process on 127.0.0.1 with its own data directory: the command finds the
// admin token there, and every subcommand changes what users see.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientError, newDevice, ParleyClient, StreamClient } from "../src/client/index.ts";

const parley = fileURLToPath(new URL("../bin/parley.mjs", import.meta.url));
const startTimeoutMs = 30_000;

let dataDirectory = "";
let server: ChildProcess | undefined;
let url = "";
let serverName = "";

function serverEnvironment(): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith("PARLEY_")) environment[name] = value;
  }
  return {
    ...environment,
    PARLEY_DATA_DIRECTORY: dataDirectory,
    PARLEY_LISTEN_PORT: "0",
    PARLEY_LOG_LEVEL: "info",
    PARLEY_REGISTRATION_MODE: "invite-only",
  };
}

beforeAll(async () => {
  dataDirectory = await mkdtemp(join(tmpdir(), "parley-admin-"));
  const child = spawn(process.execPath, [parley, "server"], {
    env: serverEnvironment(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  server = child;
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start:\n${output}`)), startTimeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const listening = /listening on:\s+(http:\/\/\S+)/.exec(output)?.[1];
      const name = /server name:\s+(\S+)/.exec(output)?.[1];
      if (listening !== undefined && name !== undefined && output.includes("admin token:")) {
        clearTimeout(timer);
        url = listening;
        serverName = name;
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${output}`));
    });
  });
});

afterAll(async () => {
  if (server !== undefined && server.exitCode === null) {
    const exited = new Promise((resolve) => server?.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
  await rm(dataDirectory, { recursive: true, force: true });
});

/** Runs `parley admin ARGS` with the server's data directory; resolves with its exit code and output. */
function admin(
  args: readonly string[],
  environment: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [parley, "admin", "--server", url, ...args],
      { env: { ...process.env, PARLEY_DATA_DIRECTORY: dataDirectory, ...environment } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function adminJson<Result>(args: readonly string[]): Promise<Result> {
  const result = await admin([...args, "--json"]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Result;
}

async function registerWithInvite(userName: string, token: string): Promise<ParleyClient> {
  const client = new ParleyClient({ baseUrl: url, serverName, device: newDevice() });
  await client.register(userName, "a long enough password", token);
  return client;
}

describe("parley admin", () => {
  it("keeps the admin token in the data directory, readable by the owner only", async () => {
    const token = (await readFile(join(dataDirectory, "admin-token"), "utf8")).trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(join(dataDirectory, "admin-token"))).mode & 0o777).toBe(0o600);
  });

  it("creates, lists and revokes invite tokens that registration spends", async () => {
    const invite = await adminJson<{ token: string; tokenId: string; usesLeft: number }>([
      "invite",
      "create",
      "--uses",
      "2",
      "--expires-in",
      "1h",
    ]);
    expect(invite.usesLeft).toBe(2);
    await registerWithInvite("alice", invite.token);
    const listed = await admin(["invite", "list"]);
    expect(listed.stdout).toContain(invite.tokenId);
    expect(listed.stdout).toMatch(new RegExp(`${invite.tokenId}\\s+1\\s+\\S+\\s+yes`));

    const text = await admin(["invite", "create"]);
    expect(text.stdout).toContain("The token is shown once");
    const shown = /invite token: (\S+)/.exec(text.stdout)?.[1] ?? "";
    const id = /id:\s+(\S+)/.exec(text.stdout)?.[1] ?? "";
    expect((await admin(["invite", "revoke", id])).stdout.trim()).toBe("revoked");
    await expect(registerWithInvite("mallory", shown)).rejects.toThrow(ClientError);
    const again = await admin(["invite", "revoke", id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("not_found");
  });

  it("deactivates a user: their open socket closes, their login is refused", async () => {
    const invite = await adminJson<{ token: string }>(["invite", "create", "--uses", "1"]);
    const bob = await registerWithInvite("bob", invite.token);
    const stream = await StreamClient.connect(url, bob.accessToken ?? "", {});
    const users = await adminJson<Array<{ userName: string; liveDevices: number }>>([
      "user",
      "list",
    ]);
    expect(users.find((user) => user.userName === "bob")?.liveDevices).toBe(1);

    const result = await admin(["user", "deactivate", `bob@${serverName}`]);
    expect(result.stdout).toContain("deactivated; 1 device(s) revoked");
    expect(await stream.closed).toMatchObject({ code: 4104 });
    await expect(bob.login("bob", "a long enough password")).rejects.toMatchObject({
      code: "unauthorized",
    });
    expect((await admin(["user", "deactivate", "bob"])).stdout).toContain("already deactivated");
    expect((await admin(["user", "deactivate", "nobody"])).code).toBe(1);
    expect((await admin(["user", "list"])).stdout).toMatch(/bob@\S+\s+0\s+\S+\s+\d{4}-/);
  });

  it("lists rooms with their joined members", async () => {
    const invite = await adminJson<{ token: string }>(["invite", "create"]);
    const carol = await registerWithInvite("carol", invite.token);
    const { roomId } = await carol.createRoom({ clientId: "r1", name: "ops", joinRule: "open" });
    const rooms = await adminJson<Array<{ roomId: string; joinedMembers: number }>>([
      "room",
      "list",
    ]);
    expect(rooms).toContainEqual(expect.objectContaining({ roomId, joinedMembers: 1 }));
    expect((await admin(["room", "list"])).stdout).toContain(roomId);
  });

  it("blocks, lists and unblocks servers", async () => {
    const added = await admin(["block", "add", "spam.example", "--reason", "floods rooms"]);
    expect(added.stdout.trim()).toBe("spam.example blocked");
    expect((await admin(["block", "add", "spam.example"])).stdout).toContain("already blocked");
    expect((await admin(["block", "list"])).stdout).toMatch(/spam\.example\s+\S+\s+floods rooms/);
    expect((await admin(["block", "remove", "spam.example"])).stdout.trim()).toBe("unblocked");
    expect(await adminJson<unknown[]>(["block", "list"])).toEqual([]);
    const bad = await admin(["block", "add", "not a server"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("bad_structure");
  });

  it("refuses a wrong token and explains a missing one", async () => {
    const wrong = await admin(["user", "list", "--token", "wrong"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("unauthorized");
    const missing = await admin(["user", "list"], {
      PARLEY_DATA_DIRECTORY: join(dataDirectory, "nowhere"),
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no admin token");
    expect((await admin(["nonsense", "command"])).code).toBe(2);
    expect((await admin([])).stdout).toContain("usage: parley admin");
  });
});
