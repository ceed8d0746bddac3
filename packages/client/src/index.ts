/**
 * @parley/client: the Parley client SDK for Node and browsers.
 *
 * What it does: makes and keeps the device's Ed25519 key; registers, logs
 * in and renews sessions with the device key (docs/protocol.md §10.2); rooms
 * (create, invite, join, knock, leave, kick, ban, name, topic, roles), their
 * state, members and history; sends signed messages with client-chosen ids,
 * idempotent retries and a delivery state per message; and keeps the live
 * stream open with bounded, jittered reconnects, resuming from the inbox
 * cursor so nothing is lost or repeated. Encrypted rooms (MLS) are handled
 * inside: KeyPackages, commits, Welcomes and decryption, with MLS state sealed
 * in the store; the application sees the same plaintext events as in plain
 * rooms, and `undecryptable` events for what could not be read. The
 * application sees typed events (`ClientEvent`) and typed errors
 * (`ServerError`, `NetworkError`, both ParleyErrors with the table's codes).
 *
 * What it does not: no UI, no timeline cache (the application keeps what it
 * shows; history is one call away). Message keys are used once, so for
 * encrypted rooms the SDK keeps the plaintext of every message it decrypted
 * or sent, sealed in the store like the MLS state: `history` shows those, and
 * `undecryptable` events for the rest.
 *
 * What callers owe it: a `ClientStore` that persists (the default keeps
 * nothing), a WebSocket constructor where the platform has none (Node 20:
 * use `@parley/client/node`), and `stop()` when done, so the last
 * acknowledgement is sent. This entry imports nothing Node-only.
 */

export {
  type AccountInput,
  defaultServerName,
  discoverServerName,
  type RegisterInput,
} from "./account.ts";
export { ParleyClient } from "./client.ts";
export { newClientId, type ParleyClientOptions, type ReconnectPolicy } from "./client-wiring.ts";
export type {
  Acceptance,
  DeliveryProgress,
  DeliveryState,
  DeliveryStatus,
} from "./delivery/delivery-state.ts";
export type { MessageContent } from "./delivery/message-sender.ts";
export type { OutgoingMessage } from "./delivery/outbox.ts";
export {
  type DeviceKeys,
  deviceKeysFromSeed,
  generateDeviceKeys,
  signDeviceRecordRequest,
  signSessionChallenge,
} from "./device/device-keys.ts";
export type { OwnDevice } from "./device/own-devices.ts";
export type { KeyPackageCount, KeyPackageRefill } from "./encryption/key-packages.ts";
export type { EncryptionOptions } from "./encryption/mls-context.ts";
export { undecryptableReason } from "./encryption/undecryptable-reason.ts";
export { isTransient, NetworkError, ServerError } from "./errors.ts";
export type {
  ClientEvent,
  ClientEventType,
  CommitRefusedEvent,
  ConnectionEvent,
  ConnectionState,
  DeliveryEvent,
  DeviceRevokedEvent,
  ErrorEvent,
  HistoryEvent,
  InviteEvent,
  MembershipEvent,
  MissedEvent,
  RoomChangeEvent,
  RoomEventPosition,
  RoomMessageEvent,
  TimelineEvent,
  UndecryptableEvent,
} from "./events/client-events.ts";
export type { HistoryPage } from "./events/history-reader.ts";
export type { FetchFunction, FetchInit, FetchResponse } from "./http/http-api.ts";
export type {
  ArrivalQuery,
  CreateRoomInput,
  HistoryQuery,
  Member,
  MembersPage,
  RoomState,
  RoomSummary,
  UserRoomAction,
} from "./rooms/room-api.ts";
export { type ClientStore, MemoryStore } from "./store/client-store.ts";
export type { BackoffPolicy } from "./stream/backoff.ts";
export type { WebSocketConstructor, WebSocketLike } from "./stream/web-socket.ts";
