/**
 * @parley/cli/client: the raw protocol client the `parley` tools, the
 * server's story tests and the benchmarks use to talk to a homeserver — one
 * request at a time, frames as they come, no retries, no reconnects — so a
 * test sees exactly what the server does. Device keys, records, session
 * proofs and errors are the SDK's (@parley/client); applications use the
 * SDK itself.
 */
export { type Device, deviceFromSeed, deviceRecordRequest, newDevice } from "./device.ts";
export { ClientError, clientApiPath, ParleyClient, type SessionGrant } from "./http-client.ts";
export {
  StreamClient,
  type StreamClose,
  type StreamOptions,
} from "./stream-client.ts";
