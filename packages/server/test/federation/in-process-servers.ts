// What the federation tests that run several homeservers in one process share:
// starting a homeserver joined to an in-process network with its logs
// discarded (and found by the others for device lists, published-devices.ts), signing up a user on it, and polling until a condition holds.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newDevice, ParleyClient } from "@parley/cli/client";
import { sharedSecretKeys } from "@parley/federation";
import { type ServerName, sha256 } from "@parley/protocol";
import { silentLogger, testHomeserverConfig } from "@parley/server/testing";
import type { HomeserverConfig } from "../../src/config/load.ts";
import { InProcessNetwork } from "../../src/federation/links/in-process-links.ts";
import { type RunningHomeserver, startHomeserver } from "../../src/process/homeserver.ts";
import { inProcessDeviceLists, noteListening } from "./published-devices.ts";

export const testPassword = "correct horse battery staple";

/** A federating homeserver named `name` on SQLite in `directory`. */
export function inProcessConfig(directory: string, name: ServerName): HomeserverConfig {
  return testHomeserverConfig({
    serverName: name,
    dataDirectory: join(directory, name),
    sqlitePath: join(directory, `${name}.sqlite`),
  });
}

/** Every in-process server's certificate secret, known to all of them (never a deployment's keys). */
function testCertificateSecret(server: ServerName): Uint8Array {
  return sha256(new TextEncoder().encode(`certificate secret of ${server}`));
}

/**
 * A homeserver on `network`, logging nowhere. `onFrame` sees the bytes of
 * every frame it receives from a peer (to search them for what must not be there).
 */
export async function startInProcessHomeserver(
  config: HomeserverConfig,
  network: InProcessNetwork,
  options: {
    readonly onFrame?: (bytes: Uint8Array) => void;
    /** How long other servers' device lists are believed (§12.14.2). */
    readonly deviceListLifetimeMs?: number;
  } = {},
): Promise<RunningHomeserver> {
  const { onFrame } = options;
  const server = await startHomeserver(config, {
    logger: silentLogger(),
    nowMs: () => Date.now(),
    deviceLists: inProcessDeviceLists(),
    ...(options.deviceListLifetimeMs === undefined
      ? {}
      : { deviceListLifetimeMs: options.deviceListLifetimeMs }),
    federation: {
      transport: (self, handlers) =>
        network.join(
          self,
          onFrame === undefined
            ? handlers
            : {
                linkUp: (peer) => handlers.linkUp(peer),
                linkDown: (peer) => handlers.linkDown(peer),
                receive: (peer, bytes) => {
                  onFrame(bytes);
                  return handlers.receive(peer, bytes);
                },
              },
        ),
      // The in-process network has no discovery to fetch key documents from:
      // certificates are signed and checked with the test keys every server here knows.
      certificateKeys: (self) => ({ ...sharedSecretKeys(self, testCertificateSecret), want() {} }),
    },
  });
  noteListening(server.serverName as ServerName, server.url);
  return server;
}

/** A newly registered user with a new device on the server at `baseUrl`. */
export async function registerUser(
  name: string,
  baseUrl: string,
  serverName: ServerName,
): Promise<ParleyClient> {
  const client = new ParleyClient({ baseUrl, serverName, device: newDevice() });
  await client.register(name, testPassword);
  return client;
}

/** Polls `check` until it returns true; a check that throws counts as false. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the condition did not hold in time");
}

/** Waits until `client`'s room list shows the room with that membership (an invite reached it). */
export function untilListed(
  client: ParleyClient,
  roomId: string,
  membership: "invited" | "joined",
): Promise<void> {
  return eventually(async () => {
    const rooms = await client.request<{ rooms: Array<{ roomId: string; membership: string }> }>(
      "GET",
      "/rooms",
    );
    return rooms.rooms.some((room) => room.roomId === roomId && room.membership === membership);
  });
}

/** Homeservers on one in-process network, each on SQLite in one temporary directory. */
export class InProcessServers {
  readonly network = new InProcessNetwork();
  readonly #servers = new Map<ServerName, RunningHomeserver>();
  #directory: string | null = null;

  /** Starts a server per name, in order. */
  async start(...names: readonly ServerName[]): Promise<void> {
    this.#directory ??= await mkdtemp(join(tmpdir(), "parley-servers-"));
    for (const name of names) {
      const config = inProcessConfig(this.#directory, name);
      this.#servers.set(name, await startInProcessHomeserver(config, this.network));
    }
  }

  /** Stops a server (gracefully); its database stays for `start` to open again. */
  async stop(name: ServerName): Promise<void> {
    await this.get(name).close();
    this.#servers.delete(name);
  }

  get(name: ServerName): RunningHomeserver {
    const server = this.#servers.get(name);
    if (server === undefined) throw new Error(`${name} is not running`);
    return server;
  }

  /** A new user with a new device on server `name`. */
  user(localPart: string, name: ServerName): Promise<ParleyClient> {
    return registerUser(localPart, this.get(name).url, name);
  }

  async closeAll(): Promise<void> {
    for (const server of this.#servers.values()) await server.close();
    this.#servers.clear();
    if (this.#directory !== null) await rm(this.#directory, { recursive: true, force: true });
  }
}
