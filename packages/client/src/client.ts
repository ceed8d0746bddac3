// ParleyClient: one device of one user, talking to its homeserver. It wires
// the pieces — session, rooms, outbox, live stream, timeline sync — and is
// the SDK's one entry point for applications.

import {
  type DeviceId,
  nobleSignatureProvider,
  ParleyError,
  parseUserId,
  type RoomId,
  type SignatureProvider,
  type UserId,
} from "@parley/protocol";
import {
  type AccountDependencies,
  type AccountInput,
  loginAccount,
  type RegisterInput,
  registerAccount,
  type SignedIn,
  savedSignIn,
} from "./account.ts";
import {
  accountDependencies,
  newClientId,
  type ParleyClientOptions,
  wireClient,
} from "./client-wiring.ts";
import { type MessageContent, MessageSender } from "./delivery/message-sender.ts";
import type { Outbox, OutgoingMessage } from "./delivery/outbox.ts";
import { OwnDevices } from "./device/own-devices.ts";
import type { EncryptedRooms } from "./encryption/encrypted-rooms.ts";
import { GroupUpkeep } from "./encryption/group-upkeep.ts";
import type { KeyPackageRefill, KeyPackages } from "./encryption/key-packages.ts";
import { asParleyError } from "./errors.ts";
import type {
  ClientEvent,
  ClientEventType,
  ConnectionState,
  HistoryEvent,
  TimelineEvent,
} from "./events/client-events.ts";
import { EventHub } from "./events/event-hub.ts";
import { type HistoryPage, HistoryReader } from "./events/history-reader.ts";
import type { TimelineSync } from "./events/timeline-sync.ts";
import { RoomActions } from "./rooms/room-actions.ts";
import {
  type ArrivalQuery,
  allMembers,
  type CreateRoomInput,
  type HistoryQuery,
  type Member,
  type MembersPage,
  type RoomApi,
  type RoomState,
  type RoomSummary,
  type UserRoomAction,
} from "./rooms/room-api.ts";
import type { Session } from "./session.ts";
import type { ClientStore } from "./store/client-store.ts";
import { SavedState } from "./store/saved-state.ts";
import type { LiveStream } from "./stream/live-stream.ts";

export class ParleyClient {
  readonly userId: UserId;
  readonly deviceId: DeviceId;
  readonly serverName: string;
  readonly baseUrl: string;
  /** This user's devices: list them, revoke one (it leaves the encrypted rooms' groups too). */
  readonly devices: OwnDevices;
  readonly #provider: SignatureProvider;
  readonly #keys: SignedIn["keys"];
  readonly #session: Session;
  readonly #rooms: RoomApi;
  readonly #outbox: Outbox;
  readonly #sync: TimelineSync;
  readonly #stream: LiveStream;
  readonly #keyPackages: KeyPackages;
  readonly #encryption: EncryptedRooms;
  readonly #actions: RoomActions;
  readonly #sender: MessageSender;
  readonly #reader: HistoryReader;
  readonly #upkeep: GroupUpkeep;
  readonly #nowMs: () => number;
  readonly #events = new EventHub();
  #connection: ConnectionState = { status: "stopped", error: undefined };

  /** Registers a new account with a new device key, kept in `options.store`. */
  static async register(
    input: RegisterInput,
    options: ParleyClientOptions = {},
  ): Promise<ParleyClient> {
    const dependencies = accountDependencies(input.baseUrl, options);
    return new ParleyClient(await registerAccount(dependencies, input), dependencies, options);
  }

  /** Logs in, reusing the device key the store holds for this account, or making a new device. */
  static async login(
    input: AccountInput,
    options: ParleyClientOptions = {},
  ): Promise<ParleyClient> {
    const dependencies = accountDependencies(input.baseUrl, options);
    return new ParleyClient(await loginAccount(dependencies, input), dependencies, options);
  }

  /**
   * The client a store's saved device belongs to, or undefined if the store
   * holds none. No request is made: an expired session is renewed with the
   * device key on first use.
   */
  static async restore(
    options: ParleyClientOptions & { readonly store: ClientStore },
  ): Promise<ParleyClient | undefined> {
    const saved = new SavedState(options.store);
    const signedIn = await savedSignIn({
      saved,
      provider: options.signatureProvider ?? nobleSignatureProvider,
    });
    if (signedIn === undefined) return undefined;
    const dependencies = accountDependencies(signedIn.device.baseUrl, options);
    return new ParleyClient(signedIn, dependencies, options);
  }

  private constructor(
    signedIn: SignedIn,
    dependencies: AccountDependencies,
    options: ParleyClientOptions,
  ) {
    this.userId = parseUserId(signedIn.device.userId);
    this.deviceId = signedIn.keys.deviceId;
    this.serverName = signedIn.device.serverName;
    this.baseUrl = dependencies.api.baseUrl;
    this.#provider = dependencies.provider;
    this.#keys = signedIn.keys;
    this.#nowMs = dependencies.nowMs;
    const parts = wireClient(signedIn, dependencies, options, {
      emit: (event) => this.#events.emit(event),
      connectionChanged: (state) => {
        this.#connection = state;
        // Each connection is a chance to top up KeyPackages (§10.12); failures are reported, not thrown.
        if (state.status === "connected") {
          this.refillKeyPackages().catch((error: unknown) => this.#reportError(error));
        }
      },
    });
    this.#session = parts.session;
    this.#rooms = parts.rooms;
    this.#outbox = parts.outbox;
    this.#sync = parts.sync;
    this.#stream = parts.stream;
    this.#keyPackages = parts.keyPackages;
    this.#encryption = parts.encryption;
    this.#actions = new RoomActions(parts.rooms, parts.encryption);
    this.#sender = new MessageSender({
      outbox: parts.outbox,
      encryption: parts.encryption,
      provider: this.#provider,
      keyPair: signedIn.keys.keyPair,
      newClientId,
      nowMs: dependencies.nowMs,
    });
    this.#reader = new HistoryReader({
      rooms: parts.rooms,
      provider: this.#provider,
      deviceId: this.deviceId,
      encryption: parts.encryption,
    });
    const joinedRooms = async () =>
      (await this.rooms())
        .filter((room) => room.membership === "joined")
        .map((room) => room.roomId);
    this.devices = new OwnDevices({
      session: parts.session,
      joinedRooms,
      removeFromGroups: (rooms, devices) => parts.encryption.removeOwnDevices(rooms, devices),
    });
    this.#upkeep = new GroupUpkeep({
      userId: this.userId,
      events: this.#events,
      encryption: parts.encryption,
      devices: this.devices,
      joinedRooms,
      reportError: (error) => this.#reportError(error),
    });
  }

  #reportError(error: unknown): void {
    this.#events.emit({ type: "error", error: asParleyError(error, "background work failed") });
  }

  // ---- events ------------------------------------------------------------

  /** Calls `listener` with every event of one type; returns the function that stops it. */
  on<Type extends ClientEventType>(
    type: Type,
    listener: (event: Extract<ClientEvent, { type: Type }>) => void,
  ): () => void {
    return this.#events.on(type, listener);
  }

  /** Calls `listener` with every event; returns the function that stops it. */
  onEvent(listener: (event: ClientEvent) => void): () => void {
    return this.#events.onEvent(listener);
  }

  // ---- connection ----------------------------------------------------------

  get connection(): ConnectionState {
    return this.#connection;
  }

  /**
   * Starts live delivery: loads the saved cursor, resends messages a previous
   * run left unaccepted, and opens the stream (reconnecting by itself).
   */
  async start(): Promise<void> {
    if (this.#stream.running) return;
    await this.#sync.load();
    await this.#outbox.resume();
    this.#stream.start();
    this.#upkeep.afterStart();
  }

  /** Stops live delivery after acknowledging what was processed. Sending still works. */
  stop(): Promise<void> {
    return this.#stream.stop();
  }

  /** Drops the stream's socket as a network failure would; it reconnects and resumes. */
  interruptConnection(): void {
    this.#stream.interrupt();
  }

  /** Resolves once the stream is connected; rejects if it stops first or after `timeoutMs`. */
  connected(timeoutMs = 30_000): Promise<void> {
    if (this.#connection.status === "connected") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stopListening();
        reject(new ParleyError("unavailable", `not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const stopListening = this.on("connection", ({ state }) => {
        if (state.status === "connected") resolve();
        else if (state.status === "stopped")
          reject(state.error ?? new ParleyError("unavailable", "stopped"));
        else return;
        clearTimeout(timer);
        stopListening();
      });
    });
  }

  /** Ends this session at the server and stops the stream. The device key stays in the store. */
  async logout(): Promise<void> {
    await this.stop();
    await this.#session.logout();
  }

  // ---- encryption -----------------------------------------------------------

  /**
   * Makes sure the homeserver holds enough of this device's KeyPackages, so
   * others can add it to encrypted rooms while it is offline: publishes new
   * ones when one-time packages run low and replaces the last-resort one
   * when missing or near its end. Runs by itself whenever the stream
   * connects; call it when told the count is low.
   */
  refillKeyPackages(): Promise<KeyPackageRefill> {
    return this.#keyPackages.refill();
  }

  // ---- messages ------------------------------------------------------------

  /**
   * Signs and sends a message with a client-chosen id (new unless given).
   * Returns at once with the message's delivery handle, state `pending`; every
   * change is also a `delivery` event. Retries after a lost answer are
   * automatic and safe (the server stores the envelope once).
   */
  send(
    roomId: RoomId,
    content: MessageContent,
    options: { clientId?: string } = {},
  ): Promise<OutgoingMessage> {
    return this.#sender.send(roomId, content, options);
  }

  /** Messages sent from this device and not accepted yet (pending or failed). */
  unacceptedMessages(): OutgoingMessage[] {
    return this.#outbox.unaccepted();
  }

  /**
   * A page of a room's events in history order (docs/protocol.md §10.4), the
   * order every server of the room converges on: show this. Signatures are
   * verified and encrypted messages decrypted. Backward (default) is newest
   * first; pass the page's `next` as `from` to go on.
   */
  history(
    roomId: RoomId,
    query: HistoryQuery = {},
  ): Promise<HistoryPage<HistoryEvent, string | null>> {
    return this.#reader.history(roomId, query);
  }

  /**
   * A page of a room's events in this server's arrival order (room
   * sequences, as the stream delivered them), verified and decrypted.
   */
  arrivals(roomId: RoomId, query: ArrivalQuery = {}): Promise<HistoryPage<HistoryEvent, number>> {
    return this.#reader.arrivals(roomId, query);
  }

  /**
   * A page in history order as the server holds it: in an encrypted room,
   * messages stay MLS ciphertexts (`message/mls`).
   */
  rawHistory(
    roomId: RoomId,
    query: HistoryQuery = {},
  ): Promise<HistoryPage<TimelineEvent, string | null>> {
    return this.#reader.raw(roomId, query);
  }

  // ---- rooms ---------------------------------------------------------------

  /** Creates a room (plain, or `kind: "encrypted"` with its MLS group) with this user as its admin. */
  createRoom(input: CreateRoomInput): Promise<{ roomId: RoomId; logIndex: number }> {
    return input.kind === "encrypted"
      ? this.#encryption.create(input)
      : this.#rooms.createRoom(input);
  }

  /** Any user action on a room (docs/protocol.md ch. 11); the helpers below name the common ones. */
  act(
    roomId: RoomId,
    action: UserRoomAction,
    options: { clientId?: string; via?: readonly string[] } = {},
  ): Promise<{ logIndex: number }> {
    return this.#actions.act(roomId, action, options);
  }

  /** Invites a user; in an encrypted room, every device of theirs is added to the group in the same entry. */
  invite(roomId: RoomId, userId: UserId): Promise<{ logIndex: number }> {
    return this.#actions.invite(roomId, userId);
  }

  /**
   * Joins a room. An invited user of an encrypted room joins like in a plain
   * one (the invite added this device; its Welcome arrives on the stream);
   * anyone else joins an encrypted room by external commit (`via`: servers
   * to reach a room this server does not know yet).
   */
  join(roomId: RoomId, options: { via?: readonly string[] } = {}): Promise<{ logIndex: number }> {
    return this.#actions.join(roomId, options);
  }

  knock(roomId: RoomId, reason = ""): Promise<{ logIndex: number }> {
    return this.act(roomId, { type: "knock", reason });
  }

  /** Lets a knocking user in: they become invited and may join. */
  acceptKnock(roomId: RoomId, userId: UserId): Promise<{ logIndex: number }> {
    return this.invite(roomId, userId);
  }

  leave(roomId: RoomId): Promise<{ logIndex: number }> {
    return this.act(roomId, { type: "leave" });
  }

  /** Kicks a user; in an encrypted room their devices leave the group in the same entry. */
  kick(roomId: RoomId, userId: UserId, reason = ""): Promise<{ logIndex: number }> {
    return this.#actions.remove(roomId, { type: "kick", target: userId, reason });
  }

  /** Bans a user; in an encrypted room their devices leave the group in the same entry. */
  ban(roomId: RoomId, userId: UserId, reason = ""): Promise<{ logIndex: number }> {
    return this.#actions.remove(roomId, { type: "ban", target: userId, reason });
  }

  /** This device's MLS epoch in an encrypted room, or undefined if it is not in the group. */
  encryptionEpoch(roomId: RoomId): Promise<number | undefined> {
    return this.#encryption.epoch(roomId);
  }

  unban(roomId: RoomId, userId: UserId): Promise<{ logIndex: number }> {
    return this.act(roomId, { type: "unban", target: userId });
  }

  setName(roomId: RoomId, name: string): Promise<{ logIndex: number }> {
    return this.act(roomId, { type: "set-name", name });
  }

  setTopic(roomId: RoomId, topic: string): Promise<{ logIndex: number }> {
    return this.act(roomId, { type: "set-topic", topic });
  }

  setRole(roomId: RoomId, userId: UserId, role: Member["role"]): Promise<{ logIndex: number }> {
    return this.act(roomId, { type: "set-role", target: userId, role });
  }

  /** The rooms this user has joined, is invited to, or is knocking at. */
  rooms(): Promise<RoomSummary[]> {
    return this.#rooms.rooms();
  }

  /** A room's applied state (for joined, invited and knocking users). */
  roomState(roomId: RoomId): Promise<RoomState> {
    return this.#rooms.state(roomId);
  }

  /** One page of a room's members, by user id. */
  members(roomId: RoomId, page: { after?: string; limit?: number } = {}): Promise<MembersPage> {
    return this.#rooms.members(roomId, page);
  }

  /** Every member of a room, page after page (bounded by the room's member limit). */
  allMembers(roomId: RoomId): Promise<Member[]> {
    return allMembers(this.#rooms, roomId);
  }
}
