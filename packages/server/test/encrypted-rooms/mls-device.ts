// A test "client" of encrypted rooms that speaks the client API of
// docs/protocol.md §10.13 over HTTP and does its MLS with @parley/mls itself
// (no SDK), so the story tests the server's contract directly.

import { newDevice, ParleyClient, StreamClient } from "@parley/cli/client";
import * as mls from "@parley/mls";
import {
  decodeBase64url,
  encodeBase64url,
  type RoomId,
  type UserId,
  verifyStoredRoomMessage,
} from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";

const password = "correct horse battery staple";

export interface Answer<Body> {
  readonly status: number;
  readonly body: Body;
}

export interface WireErrorBody {
  readonly code: string;
  readonly message: string;
  readonly epoch?: number;
  readonly controlIndex?: number;
}

interface CommitsPage {
  readonly commits: Array<{ epoch: number; controlIndex: number; commit: string }>;
  readonly more: boolean;
}

export class MlsTestDevice {
  readonly client: ParleyClient;
  readonly identity: mls.DeviceIdentity;
  readonly crypto: mls.MlsCrypto;
  member: mls.MlsMember | undefined;
  bundles: mls.KeyPackageBundle[] = [];
  /** Plaintexts read, in the order read. */
  readonly read: string[] = [];
  readonly #seenSequences = new Set<number>();

  private constructor(client: ParleyClient, crypto: mls.MlsCrypto) {
    this.client = client;
    this.crypto = crypto;
    this.identity = { user: client.userId as UserId, keyPair: client.device.keyPair };
  }

  static async register(name: string, baseUrl: string, serverName: string): Promise<MlsTestDevice> {
    const client = new ParleyClient({ baseUrl, serverName, device: newDevice() });
    await client.register(name, password);
    const crypto = await mls.createMlsCrypto({ signatureProvider: nodeSignatureProvider });
    return new MlsTestDevice(client, crypto);
  }

  get deviceId(): string {
    return this.client.device.deviceId;
  }

  get userId(): UserId {
    return this.identity.user;
  }

  get epoch(): number {
    if (this.member === undefined) throw new Error("not a member");
    return Number(mls.epochOf(this.member));
  }

  async call<Body>(method: string, path: string, body?: unknown): Promise<Answer<Body>> {
    const response = await fetch(`${this.client.baseUrl}/_parley/client/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.client.accessToken ?? ""}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Body };
  }

  async ok<Body>(method: string, path: string, body?: unknown): Promise<Body> {
    const answer = await this.call<Body>(method, path, body);
    if (answer.status >= 300) {
      throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }

  async publishKeyPackages(count: number): Promise<void> {
    const batch = await mls.generateKeyPackages(this.crypto, this.identity, {
      count,
      nowMs: Date.now(),
    });
    this.bundles.push(...batch.oneTime, batch.lastResort);
    await this.ok("POST", "/key-packages", {
      oneTime: batch.oneTime.map((bundle) => encodeBase64url(bundle.keyPackage)),
      lastResort: encodeBase64url(batch.lastResort.keyPackage),
    });
  }

  async claimKeyPackages(user: UserId): Promise<Uint8Array[]> {
    const claimed = await this.ok<{ packages: Array<{ keyPackage: string }> }>(
      "POST",
      "/key-packages/claim",
      { users: [user] },
    );
    return claimed.packages.map((entry) => decodeBase64url(entry.keyPackage));
  }

  async createRoom(clientId: string, joinRule: "invite" | "open" = "invite"): Promise<RoomId> {
    const { roomId } = await this.ok<{ roomId: RoomId }>("POST", "/rooms/room-id", { clientId });
    const created = await mls.createRoomGroup(this.crypto, this.identity, {
      roomId,
      nowMs: Date.now(),
    });
    this.member = created.member;
    await this.ok("POST", "/rooms", {
      clientId,
      name: "secret",
      topic: "",
      contentType: "text/plain",
      joinRule,
      kind: "encrypted",
      mls: {
        groupInfo: encodeBase64url(created.groupInfo),
        ratchetTree: encodeBase64url(created.ratchetTree),
      },
    });
    return roomId;
  }

  async prepare(intent: mls.CommitIntent): Promise<mls.PendingCommit> {
    if (this.member === undefined) throw new Error("not a member");
    const prepared = await mls.prepareCommit(this.member, intent, { nowMs: Date.now() });
    if (prepared.kind !== "prepared")
      throw new Error(`prepare: ${prepared.code} ${prepared.detail}`);
    return prepared.pending;
  }

  /** Submits a pending commit; adopts it when applied. Answers the server's status and body. */
  async submit(
    roomId: RoomId,
    action: Record<string, unknown>,
    pending: mls.PendingCommit,
  ): Promise<Answer<{ logIndex: number; epoch: number } & Partial<WireErrorBody>>> {
    const answer = await this.call<{ logIndex: number; epoch: number } & Partial<WireErrorBody>>(
      "POST",
      `/rooms/${roomId}/mls/commits`,
      {
        action,
        epoch: Number(pending.baseEpoch),
        commit: encodeBase64url(pending.commit),
        groupInfo: encodeBase64url(pending.groupInfo),
        ratchetTree: encodeBase64url(pending.ratchetTree),
        ...(pending.welcome === undefined ? {} : { welcome: encodeBase64url(pending.welcome) }),
      },
    );
    if (answer.status === 200 && this.member !== undefined) {
      this.member = mls.commitAccepted(this.member, pending);
    }
    return answer;
  }

  /** The applied commits from this member's epoch on, processed in order. */
  async catchUp(roomId: RoomId): Promise<number> {
    const page = await this.ok<CommitsPage>(
      "GET",
      `/rooms/${roomId}/mls/commits?from=${this.epoch}&limit=64`,
    );
    for (const applied of page.commits) await this.processCommit(decodeBase64url(applied.commit));
    return page.commits.length;
  }

  async processCommit(commit: Uint8Array): Promise<mls.ProcessOutcome> {
    if (this.member === undefined) throw new Error("not a member");
    const outcome = await mls.processMessage(this.member, commit);
    if (outcome.kind === "failed") throw new Error(`commit: ${outcome.code} ${outcome.detail}`);
    this.member = outcome.member;
    return outcome;
  }

  /** Connects the stream, waits for a Welcome in the device queue, joins from it. */
  async joinFromQueuedWelcome(roomId: RoomId, timeoutMs = 20_000): Promise<void> {
    const stream = await StreamClient.connect(this.client.baseUrl, this.client.accessToken ?? "", {
      autoAcknowledge: true,
    });
    try {
      const deadline = Date.now() + timeoutMs;
      let item: { body: unknown } | undefined;
      while (item === undefined && Date.now() < deadline) {
        item = stream.queueItems.find(
          (candidate) =>
            candidate.kind === "welcome" &&
            (candidate.body as { roomId?: string }).roomId === roomId,
        );
        if (item === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (item === undefined) {
        const kinds = stream.queueItems.map((queued) => queued.kind);
        throw new Error(`no Welcome arrived; the queue held ${JSON.stringify(kinds)}`);
      }
      const body = item.body as { welcome: string; ratchetTree: string; epoch: number };
      const joined = await mls.joinFromWelcome(this.crypto, {
        roomId,
        welcome: decodeBase64url(body.welcome),
        ratchetTree: decodeBase64url(body.ratchetTree),
        keyPackages: this.bundles,
      });
      if (joined.kind !== "joined") throw new Error(`join: ${JSON.stringify(joined)}`);
      this.member = joined.member;
      if (this.epoch !== body.epoch) throw new Error("the Welcome's epoch is not the group's");
    } finally {
      stream.socket.close();
      await stream.closed;
    }
  }

  async sendText(roomId: RoomId, text: string, clientId: string): Promise<void> {
    if (this.member === undefined) throw new Error("not a member");
    const encrypted = await mls.encryptMessage(this.member, new TextEncoder().encode(text));
    if (encrypted.kind !== "encrypted") throw new Error(`encrypt: ${encrypted.code}`);
    this.member = encrypted.member;
    await this.client.send(roomId, encrypted.message, { clientId, contentType: "message/mls" });
  }

  /**
   * Reads the room's history forward and decrypts every message not read
   * before; answers the failures (code per sequence) of messages it could not read.
   */
  async readMessages(roomId: RoomId): Promise<string[]> {
    const failures: string[] = [];
    const history = await this.client.history(roomId, { direction: "forward", limit: 1000 });
    for (const event of history.events) {
      if (event.kind !== "message" || this.#seenSequences.has(event.sequence)) continue;
      this.#seenSequences.add(event.sequence);
      if (event.contentType !== "message/mls") throw new Error("a message that is not MLS");
      const verified = verifyStoredRoomMessage(
        nodeSignatureProvider,
        decodeBase64url(event.signed),
        decodeBase64url(event.signature ?? ""),
      );
      if (this.member === undefined) throw new Error("not a member");
      const outcome = await mls.processMessage(this.member, verified.body);
      if (outcome.kind === "application") {
        this.member = outcome.member;
        this.read.push(new TextDecoder().decode(outcome.plaintext));
      } else if (outcome.kind === "failed") {
        failures.push(outcome.code);
      } else {
        throw new Error(`a message processed as ${outcome.kind}`);
      }
    }
    return failures;
  }
}
