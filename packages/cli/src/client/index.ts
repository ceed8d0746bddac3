/**
 * @parley/cli/client: the small client the `parley` command, the story tests
 * and the benchmarks use to talk to a homeserver — device keys and records,
 * the HTTP client API, and the live stream. A full client SDK (MLS, local
 * store, sync) is a separate package to come; this one only speaks the API.
 */
export { type Device, deviceFromSeed, deviceRecordRequest, newDevice } from "./device.ts";
export {
  type AcceptedMessage,
  ClientError,
  clientApiPath,
  type EventJson,
  type HistoryPage,
  ParleyClient,
  type SessionGrant,
} from "./http-client.ts";
export {
  type ServerFrame,
  StreamClient,
  type StreamClose,
  type StreamOptions,
} from "./stream-client.ts";
