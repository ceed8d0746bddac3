// Encrypted rooms inside the SDK (docs/protocol.md §10.13): creating one
// with its MLS group, inviting (claiming every device's KeyPackage and
// committing the adds with a Welcome), kicking and banning (committing the
// removals), joining from a Welcome or by external commit, encrypting what
// the device sends, and turning what the stream delivers back into the
// plaintext events of plain rooms. Decryption failures become
// `undecryptable` events, never silence.

import {
  createRoomGroup,
  epochOf,
  externalJoinAccepted,
  groupInfoOf,
  isActive,
  joinFromWelcome,
  type MlsMember,
  membersOfGroup,
  mlsFailureToParleyError,
  prepareExternalJoin,
  ratchetTreeOf,
  verifyKeyPackageBytes,
} from "@parley/mls";
import {
  type DeviceId,
  decodeBase64url,
  encodeBase64url,
  ParleyError,
  parseRoomId,
  type RoomId,
  type UserId,
} from "@parley/protocol";
import { asParleyError } from "../errors.ts";
import type { ClientEvent, RoomMessageEvent, UndecryptableEvent } from "../events/client-events.ts";
import type { CreateRoomInput, Member } from "../rooms/room-api.ts";
import { GroupSync } from "./group-sync.ts";
import type { KeyPackages } from "./key-packages.ts";
import { MessageCrypto } from "./message-crypto.ts";
import type { MlsContext } from "./mls-context.ts";
import type { MlsRequests } from "./mls-requests.ts";
import type { MessagePlaintext } from "./plaintext.ts";
import { PlaintextCache } from "./plaintext-cache.ts";
import type { RoomGroups } from "./room-groups.ts";

/** KeyPackage claims for one invite while the target's server is unreachable, and the pause between. */
const claimAttemptsMax = 4;
const claimRetryDelayMs = 1000;

export interface EncryptedRoomsDependencies {
  readonly context: MlsContext;
  readonly groups: RoomGroups;
  readonly requests: MlsRequests;
  readonly keyPackages: KeyPackages;
  readonly newClientId: () => string;
  /** Every member of the room with their membership. */
  readonly members: (roomId: RoomId) => Promise<readonly Member[]>;
  readonly roomKind: (roomId: RoomId) => Promise<"plain" | "encrypted">;
  readonly emit: (event: ClientEvent) => void;
}

export class EncryptedRooms {
  readonly #dependencies: EncryptedRoomsDependencies;
  readonly #sync: GroupSync;
  readonly #messages: MessageCrypto;
  readonly #kinds = new Map<string, "plain" | "encrypted">();

  constructor(dependencies: EncryptedRoomsDependencies) {
    this.#dependencies = dependencies;
    this.#sync = new GroupSync(dependencies);
    this.#messages = new MessageCrypto(
      dependencies.groups,
      new PlaintextCache(dependencies.context),
    );
  }

  get groups(): RoomGroups {
    return this.#dependencies.groups;
  }

  /**
   * Whether the room is encrypted (asked once per room, then remembered). A
   * room whose state cannot be read now counts as plain, unremembered: what
   * is sent there is refused by the server if it is in fact encrypted (only
   * `message/mls` is accepted there) and fails visibly.
   */
  async isEncrypted(roomId: RoomId): Promise<boolean> {
    const known = this.#kinds.get(roomId);
    if (known !== undefined) return known === "encrypted";
    if (await this.#dependencies.groups.has(roomId)) {
      this.#kinds.set(roomId, "encrypted");
      return true;
    }
    const kind = await this.#dependencies.roomKind(roomId).catch(() => undefined);
    if (kind !== undefined) this.#kinds.set(roomId, kind);
    return kind === "encrypted";
  }

  /** Creates the group, stores it, then the room carrying its GroupInfo and tree. */
  async create(input: CreateRoomInput): Promise<{ roomId: RoomId; logIndex: number }> {
    const { context, requests, groups } = this.#dependencies;
    const clientId = input.clientId ?? this.#dependencies.newClientId();
    const { roomId } = await requests.roomIdFor(clientId);
    return groups.withRoom(roomId, async () => {
      const existing = await groups.member(roomId);
      const created =
        existing === undefined
          ? await createRoomGroup(await context.crypto(), context.identity, {
              roomId,
              nowMs: context.nowMs(),
            })
          : undefined;
      const member = existing ?? created?.member;
      if (member === undefined) throw new ParleyError("internal", "no group was created");
      if (created !== undefined) await groups.save(roomId, created.member);
      this.#kinds.set(roomId, "encrypted");
      return requests.createRoom({
        clientId,
        name: input.name,
        topic: input.topic ?? "",
        contentType: input.contentType ?? "text/plain",
        joinRule: input.joinRule ?? "invite",
        groupInfo: encodeBase64url(await groupInfoOf(member)),
        ratchetTree: encodeBase64url(ratchetTreeOf(member)),
      });
    });
  }

  /** Invites `target`, adding every device of theirs that has a KeyPackage, in one commit. */
  async invite(roomId: RoomId, target: UserId): Promise<{ logIndex: number }> {
    const { requests, context } = this.#dependencies;
    // A first claim from another server may find no link yet (`unavailable`): ask again, a few times.
    let claimed = await requests.claimKeyPackages([target]);
    for (let attempt = 1; attempt < claimAttemptsMax; attempt += 1) {
      if (claimed.packages.length > 0 || claimed.failures[0]?.code !== "unavailable") break;
      await new Promise((resolve) => setTimeout(resolve, claimRetryDelayMs * attempt));
      claimed = await requests.claimKeyPackages([target]);
    }
    const crypto = await context.crypto();
    const packages: Array<{ device: DeviceId; bytes: Uint8Array }> = [];
    for (const offered of claimed.packages) {
      const bytes = decodeBase64url(offered.keyPackage);
      const verified = await verifyKeyPackageBytes(crypto, bytes, context.nowMs());
      if (verified.kind === "failed") throw mlsFailureToParleyError(verified);
      // The server answers for the user: the package must name that user and device.
      if (
        verified.keyPackage.user !== target ||
        verified.keyPackage.device !== offered.deviceId ||
        offered.userId !== target
      ) {
        throw new ParleyError("mls_key_package_invalid", `a claimed KeyPackage is not ${target}'s`);
      }
      packages.push({ device: verified.keyPackage.device, bytes });
    }
    if (packages.length === 0) {
      const reason = claimed.failures[0]?.message ?? "no device of theirs has a KeyPackage";
      throw new ParleyError("not_found", `cannot add ${target} to an encrypted room: ${reason}`);
    }
    const answer = await this.#commit(roomId, { type: "invite", target }, target, (member) => {
      const present = new Set(membersOfGroup(member).map((leaf) => leaf.device as string));
      const add = packages.filter((offered) => !present.has(offered.device));
      return { add: add.map((offered) => offered.bytes) };
    });
    return { logIndex: answer?.logIndex ?? -1 };
  }

  /** Kicks or bans `target`, removing all their devices from the group in the same entry. */
  async remove(
    roomId: RoomId,
    action: { type: "kick" | "ban"; target: UserId; reason: string },
  ): Promise<{ logIndex: number }> {
    const answer = await this.#commit(roomId, action, undefined, (member) => {
      const remove = membersOfGroup(member)
        .filter((leaf) => leaf.user === action.target)
        .map((leaf) => leaf.device);
      return { remove };
    });
    return { logIndex: answer?.logIndex ?? -1 };
  }

  /**
   * After someone else's leave: a leave carries no commit (a device cannot
   * remove itself), so members commit the removal of the leaver's devices
   * (§10.13); the losers of that race find nothing left to do.
   */
  async followRoomChange(
    event: Extract<ClientEvent, { type: "room-change" }>,
    self: UserId,
  ): Promise<void> {
    if (event.action.type !== "leave" || event.actor.type !== "user") return;
    if (event.actor.user === self || !(await this.#dependencies.groups.has(event.roomId))) return;
    await this.#commit(event.roomId, { type: "mls-commit" }, undefined, () => undefined);
  }

  /**
   * Joins by external commit from the GroupInfo the sponsors serve: an open
   * encrypted room, or one whose invite did not add this device.
   */
  async externalJoin(
    roomId: RoomId,
    via: readonly string[],
    action: { readonly type: "join" | "mls-commit" } = { type: "join" },
  ): Promise<{ logIndex: number }> {
    const { context, requests, groups } = this.#dependencies;
    return groups.withRoom(roomId, async () => {
      for (let attempt = 0; attempt < 4; attempt += 1) {
        const material = await requests.groupInfo(roomId, via);
        const crypto = await context.crypto();
        const prepared = await prepareExternalJoin(crypto, context.identity, {
          roomId,
          groupInfo: decodeBase64url(material.groupInfo),
          ratchetTree: decodeBase64url(material.ratchetTree),
          nowMs: context.nowMs(),
        });
        if (prepared.kind === "failed") throw mlsFailureToParleyError(prepared);
        const { pending } = prepared;
        try {
          const answer = await requests.submitCommit(roomId, {
            clientId: this.#dependencies.newClientId(),
            action,
            epoch: material.epoch,
            commit: encodeBase64url(pending.commit),
            groupInfo: encodeBase64url(pending.groupInfo),
            ratchetTree: encodeBase64url(pending.ratchetTree),
          });
          await groups.save(roomId, externalJoinAccepted(crypto, pending));
          this.#kinds.set(roomId, "encrypted");
          return { logIndex: answer.logIndex };
        } catch (error) {
          if (!(error instanceof ParleyError) || error.code !== "mls_stale_epoch") throw error;
        }
      }
      throw new ParleyError("conflict", `room ${roomId}: the external join lost 4 times`);
    });
  }

  /**
   * Brings this device into the groups of the encrypted rooms its user has
   * joined but it has no state for (a device added after the user joined, or
   * one that lost its state), by external commit. Each failure is reported
   * and does not stop the others.
   */
  async joinMissing(joinedRooms: readonly RoomId[]): Promise<void> {
    for (const roomId of joinedRooms) {
      try {
        if (!(await this.isEncrypted(roomId))) continue;
        const member = await this.#dependencies.groups.member(roomId);
        if (member !== undefined && isActive(member)) continue;
        await this.externalJoin(roomId, [], { type: "mls-commit" });
      } catch (error) {
        this.#dependencies.emit({
          type: "error",
          error:
            error instanceof ParleyError
              ? error
              : new ParleyError("internal", `joining room ${roomId}'s group failed`, {
                  cause: error,
                }),
        });
      }
    }
  }

  /**
   * Removes devices of this user (revoked ones) from the groups of the
   * given rooms where they still are, one `mls-commit` per room: a revoked
   * device keeps its MLS state and could otherwise read what follows. The
   * server cannot make that commit (§13.6). Each failure is reported and
   * does not stop the others.
   */
  async removeOwnDevices(rooms: readonly RoomId[], devices: ReadonlySet<string>): Promise<void> {
    const self = this.#dependencies.context.identity.user;
    for (const roomId of rooms) {
      try {
        const member = await this.#dependencies.groups.member(roomId);
        if (member === undefined || !isActive(member)) continue;
        const present = (candidate: MlsMember) =>
          membersOfGroup(candidate)
            .filter((leaf) => leaf.user === self && devices.has(leaf.device))
            .map((leaf) => leaf.device);
        if (present(member).length === 0) continue;
        // Checked again under the room's lock: another device may have removed them meanwhile.
        await this.#commit(roomId, { type: "mls-commit" }, undefined, (current) => {
          const remove = present(current);
          return remove.length === 0 ? undefined : { remove };
        });
      } catch (error) {
        const failure = asParleyError(error, `removing revoked devices from ${roomId} failed`);
        this.#dependencies.emit({ type: "error", error: failure });
      }
    }
  }

  /** A commit event from the stream (control order): applied to the member, catching up if needed. */
  commitEvent(
    roomId: RoomId,
    epoch: number,
    controlIndex: number,
    commit: Uint8Array,
  ): Promise<void> {
    return this.#dependencies.groups.withRoom(roomId, async () => {
      this.#kinds.set(roomId, "encrypted");
      const result = await this.#sync.apply(roomId, epoch, controlIndex, commit);
      if (result === "gap") await this.#sync.catchUp(roomId);
    });
  }

  /** A Welcome from the device's queue: join, mark the KeyPackage used, catch up on later commits. */
  async welcome(body: {
    readonly roomId?: unknown;
    readonly welcome?: unknown;
    readonly ratchetTree?: unknown;
  }): Promise<void> {
    if (
      typeof body.roomId !== "string" ||
      typeof body.welcome !== "string" ||
      typeof body.ratchetTree !== "string"
    ) {
      throw new ParleyError("bad_structure", "a welcome queue item lacks a field");
    }
    const roomId = parseRoomId(body.roomId);
    const welcome = decodeBase64url(body.welcome);
    const ratchetTree = decodeBase64url(body.ratchetTree);
    const { context, groups, keyPackages } = this.#dependencies;
    await groups.withRoom(roomId, async () => {
      const existing = await groups.member(roomId);
      if (existing !== undefined && isActive(existing)) return;
      const joined = await joinFromWelcome(await context.crypto(), {
        roomId,
        welcome,
        ratchetTree,
        keyPackages: await keyPackages.bundles(),
      });
      if (joined.kind === "failed") throw mlsFailureToParleyError(joined);
      await groups.save(roomId, joined.member);
      this.#kinds.set(roomId, "encrypted");
      await keyPackages.used(joined.usedKeyPackage);
      await this.#sync.catchUp(roomId);
    });
    // The Welcome spent a package at the server: top up without holding the stream.
    keyPackages.refill().catch((error: unknown) =>
      this.#dependencies.emit({
        type: "error",
        error: asParleyError(error, "refilling KeyPackages failed"),
      }),
    );
  }

  /** Encrypts a message for the room; the new state is stored before the ciphertext leaves. */
  encrypt(roomId: RoomId, clientId: string, message: MessagePlaintext): Promise<Uint8Array> {
    return this.#messages.encrypt(roomId, this.#dependencies.context.deviceId, clientId, message);
  }

  /** A message event: decrypted to the plaintext event, or an `undecryptable` event. */
  decrypt(event: RoomMessageEvent): Promise<ClientEvent> {
    return this.#messages.decrypt(event);
  }

  /** A history page's message: its kept plaintext, or `undecryptable`. */
  fromHistory(event: RoomMessageEvent): Promise<RoomMessageEvent | UndecryptableEvent> {
    return this.#messages.fromHistory(event);
  }

  /** Store changes of members and plaintexts the stream moved, for the cursor's write. */
  takeChanges(): Promise<Map<string, string | undefined>> {
    return this.#messages.takeChanges();
  }

  /**
   * A commit under the room's lock whose intent also removes the devices of
   * users no longer joined or invited (the sponsors refuse a commit that
   * leaves one in the group). `staying` is a user the action itself invites.
   * An undefined intent commits only if someone is gone (else nothing is sent).
   */
  #commit(
    roomId: RoomId,
    action: Parameters<GroupSync["commit"]>[1],
    staying: UserId | undefined,
    intentOf: (member: MlsMember) => { add?: Uint8Array[]; remove?: DeviceId[] } | undefined,
  ) {
    const { groups } = this.#dependencies;
    return groups.withRoom(roomId, async () => {
      await this.#sync.catchUp(roomId);
      return this.#sync.commit(roomId, action, async (member) => {
        const present = new Set<string>(
          (await this.#dependencies.members(roomId))
            .filter((entry) => entry.membership === "joined" || entry.membership === "invited")
            .map((entry) => entry.userId),
        );
        if (staying !== undefined) present.add(staying);
        const self = this.#dependencies.context.deviceId;
        const gone = membersOfGroup(member)
          .filter((leaf) => !present.has(leaf.user) && leaf.device !== self)
          .map((leaf) => leaf.device);
        const intent = intentOf(member);
        const remove = [...new Set([...(intent?.remove ?? []), ...gone])];
        if (intent === undefined && remove.length === 0) return undefined;
        return { ...(intent?.add === undefined ? {} : { add: intent.add }), remove };
      });
    });
  }

  /** The member's epoch, for tests and diagnostics; undefined without a member. */
  async epoch(roomId: RoomId): Promise<number | undefined> {
    const member = await this.#dependencies.groups.member(roomId);
    return member === undefined ? undefined : Number(epochOf(member));
  }
}
