// The options a ParleyClient takes and how its parts are put together:
// session, rooms, outbox, timeline sync and live stream, each given only
// what it needs. Kept apart from client.ts so the public class reads as its
// API.

import type { SignatureProvider } from "@parley/protocol";
import {
  encodeBase64url,
  nobleSignatureProvider,
  ParleyError,
  parseUserId,
} from "@parley/protocol";
import type { AccountDependencies, SignedIn } from "./account.ts";
import { Outbox } from "./delivery/outbox.ts";
import { EncryptedRooms } from "./encryption/encrypted-rooms.ts";
import { type KeyPackageCount, KeyPackages } from "./encryption/key-packages.ts";
import { type EncryptionOptions, MlsContext } from "./encryption/mls-context.ts";
import { MlsRecords } from "./encryption/mls-records.ts";
import { MlsRequests } from "./encryption/mls-requests.ts";
import { RoomGroups } from "./encryption/room-groups.ts";
import type { ClientEvent, ConnectionState } from "./events/client-events.ts";
import { TimelineSync } from "./events/timeline-sync.ts";
import { type FetchFunction, HttpApi } from "./http/http-api.ts";
import { allMembers, RoomApi } from "./rooms/room-api.ts";
import { Session } from "./session.ts";
import { type ClientStore, MemoryStore } from "./store/client-store.ts";
import { SavedState } from "./store/saved-state.ts";
import { type BackoffPolicy, reconnectBackoffDefault } from "./stream/backoff.ts";
import { LiveStream } from "./stream/live-stream.ts";
import { platformWebSocket, type WebSocketConstructor } from "./stream/web-socket.ts";

export interface ReconnectPolicy extends BackoffPolicy {
  /** Consecutive failed attempts before the stream stops (status "stopped" with the error). */
  readonly attemptsMax: number;
}

export interface ParleyClientOptions {
  /** Keeps the device key, session, cursor and unsent messages. Default: in memory only. */
  readonly store?: ClientStore;
  /** Ed25519. Default: noble (pure JavaScript); `@parley/client/node` passes node:crypto. */
  readonly signatureProvider?: SignatureProvider;
  /** Default: the platform's WebSocket. On Node 20 pass the `ws` package's (see `@parley/client/node`). */
  readonly webSocket?: WebSocketConstructor;
  /** Default: the platform's fetch. */
  readonly fetch?: FetchFunction;
  /** Default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Default: 0.5 s doubling to 30 s, jittered, 1000 attempts in a row (over eight hours). */
  readonly reconnect?: Partial<ReconnectPolicy>;
  /** Requests per message (and per room action) before it fails when there is no answer. Default 5. */
  readonly sendAttemptsMax?: number;
  /** Default Date.now. */
  readonly nowMs?: () => number;
  /** Default Math.random; used for jitter only (keys and ids use the platform's CSPRNG). */
  readonly random?: () => number;
  /** Encrypted rooms (MLS): the state key, primitives and KeyPackage supply. */
  readonly encryption?: EncryptionOptions;
}

const reconnectDefault: ReconnectPolicy = { ...reconnectBackoffDefault, attemptsMax: 1000 };
const sendAttemptsDefault = 5;

/** A fresh client id: 16 base64url characters from the platform's CSPRNG. */
export function newClientId(): string {
  return encodeBase64url(globalThis.crypto.getRandomValues(new Uint8Array(12)));
}

export function accountDependencies(
  baseUrl: string,
  options: ParleyClientOptions,
): AccountDependencies {
  return {
    api: new HttpApi({
      baseUrl,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.requestTimeoutMs === undefined
        ? {}
        : { requestTimeoutMs: options.requestTimeoutMs }),
    }),
    rawFetch: {
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.requestTimeoutMs === undefined
        ? {}
        : { requestTimeoutMs: options.requestTimeoutMs }),
    },
    saved: new SavedState(options.store ?? new MemoryStore()),
    provider: options.signatureProvider ?? nobleSignatureProvider,
    nowMs: options.nowMs ?? Date.now,
  };
}

export interface ClientParts {
  readonly session: Session;
  readonly rooms: RoomApi;
  readonly outbox: Outbox;
  readonly sync: TimelineSync;
  readonly stream: LiveStream;
  readonly mls: MlsContext;
  readonly keyPackages: KeyPackages;
  readonly encryption: EncryptedRooms;
}

export interface ClientHooks {
  readonly emit: (event: ClientEvent) => void;
  /** Called before the `connection` event is emitted, so listeners read the new state. */
  readonly connectionChanged: (state: ConnectionState) => void;
}

function webSocketOf(options: ParleyClientOptions): WebSocketConstructor {
  const webSocket = options.webSocket ?? platformWebSocket();
  if (webSocket === undefined) {
    throw new ParleyError(
      "invalid_argument",
      "this platform has no WebSocket: pass options.webSocket (on Node 20, use @parley/client/node)",
    );
  }
  return webSocket;
}

export function wireClient(
  signedIn: SignedIn,
  dependencies: AccountDependencies,
  options: ParleyClientOptions,
  hooks: ClientHooks,
): ClientParts {
  const { api, saved, provider, nowMs } = dependencies;
  const random = options.random ?? Math.random;
  const reconnect = { ...reconnectDefault, ...options.reconnect };
  const attemptsMax = options.sendAttemptsMax ?? sendAttemptsDefault;
  const { keys } = signedIn;
  const serverName = signedIn.device.serverName;
  const session = new Session({ api, saved, keys, provider, serverName, nowMs }, signedIn.session);
  const mls = new MlsContext({
    identity: { user: parseUserId(signedIn.device.userId), keyPair: keys.keyPair },
    deviceId: keys.deviceId,
    records: new MlsRecords(saved.store),
    options: options.encryption ?? {},
    signatureProvider: provider,
    nowMs,
  });
  const keyPackages = new KeyPackages(mls, {
    count: () => session.request<KeyPackageCount>("GET", "/key-packages"),
    publish: (body) => session.request("POST", "/key-packages", body),
  });
  const rooms = new RoomApi({ session, newClientId, backoff: reconnect, attemptsMax, random });
  const encryption = new EncryptedRooms({
    context: mls,
    groups: new RoomGroups(mls),
    requests: new MlsRequests(session, rooms),
    keyPackages,
    newClientId,
    members: (roomId) => allMembers(rooms, roomId),
    roomKind: async (roomId) => (await rooms.state(roomId)).kind,
    emit: hooks.emit,
  });
  const outbox = new Outbox({
    saved,
    post: (roomId, envelope) =>
      session.request("POST", `/rooms/${encodeURIComponent(roomId)}/messages`, {
        message: envelope,
      }),
    emit: hooks.emit,
    backoff: reconnect,
    attemptsMax,
    random,
  });
  const sync = new TimelineSync({
    saved,
    provider,
    deviceId: keys.deviceId,
    outbox,
    arrivals: (roomId, query) => rooms.arrivals(roomId, query),
    emit: hooks.emit,
    encryption,
  });
  const stream = new LiveStream({
    url: api.streamUrl,
    webSocket: webSocketOf(options),
    token: () => session.token(),
    renewSession: () => session.renew(),
    handlers: {
      events: (events) => sync.events(events),
      queue: (items) => sync.queue(items),
      missed: (count, through) => sync.missed(count, through),
      delivery: (items) => outbox.progress(items, nowMs()),
      connection: (state) => {
        hooks.connectionChanged(state);
        hooks.emit({ type: "connection", state });
      },
    },
    backoff: reconnect,
    attemptsMax: reconnect.attemptsMax,
    random,
    // The reference client's pace (docs/protocol.md §10.8).
    acknowledgeEveryMs: 50,
    // Under the server's 30 s ping, so a dead path is noticed from this side too.
    pingIntervalMs: 25_000,
    pongTimeoutMs: 10_000,
  });
  return { session, rooms, outbox, sync, stream, mls, keyPackages, encryption };
}
