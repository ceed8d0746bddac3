// What the federation tests that run several homeservers in one process share:
// starting a homeserver joined to an in-process network with its logs
// discarded (and found by the others for device lists, published-devices.ts), signing up a user on it, and polling until a condition holds.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newDevice, ParleyClient } from "@parley/cli/client";
import {
  certificateStatement,
  type KeyPair,
  keyPairFromSeed,
  type RoomId,
  type ServerName,
  sha256,
  signatureContexts,
  signInContext,
  verifyCertificateSignature,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { silentLogger, testHomeserverConfig } from "@parley/server/testing";
import type { HomeserverConfig } from "../../src/config/load.ts";
import type { FetchingCertificateKeys } from "../../src/federation/certificate-keys.ts";
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

const testKeyPairs = new Map<ServerName, KeyPair>();

/** Every in-process server's certificate key, derived from its name (never a deployment's keys). */
function testCertificateKeyPair(server: ServerName): KeyPair {
  let keyPair = testKeyPairs.get(server);
  if (keyPair === undefined) {
    const seed = sha256(new TextEncoder().encode(`certificate key of ${server}`));
    keyPair = keyPairFromSeed(nodeSignatureProvider, seed);
    testKeyPairs.set(server, keyPair);
  }
  return keyPair;
}

/**
 * Real Ed25519 certificate keys every in-process server knows for every
 * other one (there is no discovery to fetch key documents from), so clients
 * check what these servers serve as they would a deployment's.
 */
export function testCertificateKeys(self: ServerName): FetchingCertificateKeys {
  const publicKeysOf = (server: ServerName) => [testCertificateKeyPair(server).publicKey];
  return {
    sign: (room, index, chainHash) =>
      signInContext(
        nodeSignatureProvider,
        testCertificateKeyPair(self),
        signatureContexts.controlCertificate,
        certificateStatement(room, index, chainHash),
      ),
    verify: (server, room, index, chainHash, signature) =>
      verifyCertificateSignature(
        nodeSignatureProvider,
        publicKeysOf(server),
        { room, index, chainHash },
        signature,
      )
        ? "valid"
        : "invalid",
    want() {},
    publicKeysOf,
  };
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
      certificateKeys: testCertificateKeys,
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

  /**
   * An open room of `owner`'s server whose invites do not add sponsors, and
   * which `follower` (a user of another server) joins through `via`: that
   * server stays a leaf. Answers the room id.
   */
  async openRoomWithLeaf(
    owner: ParleyClient,
    follower: ParleyClient,
    via: ServerName,
    name: string,
  ): Promise<RoomId> {
    const { roomId } = await owner.createRoom({ clientId: "r", name, joinRule: "open" });
    await owner.act(roomId, {
      type: "set-sponsor-policy",
      sponsorPolicy: { mode: "fixed", sponsorsMax: 3 },
    });
    await follower.request("POST", `/rooms/${roomId}/actions`, {
      action: { type: "join" },
      via: [via],
    });
    return roomId;
  }

  async closeAll(): Promise<void> {
    for (const server of this.#servers.values()) await server.close();
    this.#servers.clear();
    if (this.#directory !== null) await rm(this.#directory, { recursive: true, force: true });
  }
}
