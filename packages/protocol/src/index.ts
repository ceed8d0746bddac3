/**
 * @parley/protocol: the bytes and rules every Parley program agrees on.
 *
 * What it does:
 * - the project-wide error-code table and ParleyError;
 * - canonical CBOR (RFC 8949 §4.2.1) with limits enforced while decoding;
 * - Ed25519 signatures behind a small SignatureProvider interface (noble here,
 *   node:crypto in "@parley/protocol/node"), domain-separated by context, and
 *   SHA-256 content ids;
 * - identifiers with branded types: server names, user ids, device ids, room
 *   ids, content ids;
 * - device identity records: create, sign, attest, verify, link, rotate,
 *   revoke, and a registry that enforces sequence, replay and revocation;
 * - server key documents: create, verify with key continuity, and "which key
 *   was valid at time T";
 * - signed room message envelopes for plain rooms (room-message/);
 * - the JSON types of the client API's events and stream frames
 *   (client-api/), so the server, the SDK and the tools share one copy.
 *
 * What it does not: no IO, no clock, no randomness except key generation
 * from the platform's CSPRNG (and `generateRoomId`, which takes its random
 * source). It never fetches a key document, stores a record or reads the time:
 * callers pass `nowMs`, documents and bytes in. Runs unchanged in Node and in
 * browsers; nothing here imports a Node module.
 *
 * What callers owe it:
 * - the current time as `nowMs` (Unix milliseconds) and a verified key
 *   document of the right homeserver for each verification;
 * - persistence of DeviceRegistry contents and of trusted key documents;
 * - authentication of the device before `attestDeviceRecord`;
 * - secret seeds kept secret: this package never copies them anywhere but
 *   into the signature provider.
 *
 * The specification is docs/protocol.md; test vectors are in test-vectors/.
 */

export const protocolVersion = 1;

export {
  type CertificateAnswer,
  type CertificateAnswerJson,
  certificateAnswerJson,
  parseCertificateAnswer,
} from "./client-api/certificate-wire.ts";
export type {
  AcceptedMessageJson,
  ControlJson,
  DeliveryItemJson,
  ErrorJson,
  EventJson,
  HistoryPageJson,
  MlsEventJson,
  NoticeBodyJson,
  OrderedHistoryPageJson,
  QueueItemJson,
  ServerFrame,
} from "./client-api/stream-wire.ts";
export { decodeBase64url, encodeBase64url } from "./codec/base64url.ts";
export { compareBytes, concatBytes, decodeHex, encodeHex, equalBytes } from "./codec/bytes.ts";
export { decodeCanonical } from "./codec/decode.ts";
export { encodeCanonical } from "./codec/encode.ts";
export { type CborMap, type CborValue, isWellFormedText } from "./codec/value.ts";
export { fromJsonValue, type JsonValue, toJsonValue } from "./codec/vector-notation.ts";
export {
  type CertificateCheck,
  type CertificateKeys,
  type ControlCertificate,
  certificateStatement,
  checkCertificate,
  majorityOf,
} from "./control-certificates/certificate.ts";
export {
  type CertifiedRecords,
  checkCertifiedRecords,
  listedCertificateKeys,
  verifyCertificateSignature,
} from "./control-certificates/certified-records.ts";
export { genesisChainHash, nextChainHash } from "./control-certificates/chain.ts";
export {
  type SignatureContext,
  signatureContexts,
  signedMessage,
  signInContext,
  verifyInContext,
} from "./crypto/contexts.ts";
export { sha256, sha256Bytes } from "./crypto/hashing.ts";
export { nobleSignatureProvider } from "./crypto/noble-provider.ts";
export { assertAcceptablePublicKey, isAcceptablePublicKey } from "./crypto/public-key.ts";
export {
  type KeyPair,
  keyPairFromSeed,
  publicKeyBytes,
  type SignatureProvider,
  secretSeedBytes,
  signatureBytes,
} from "./crypto/signature-provider.ts";
export {
  type AttestingServer,
  attestDeviceRecord,
  type DeviceRecordFields,
  signDeviceRecord,
} from "./device-record/create.ts";
export {
  type DeviceBinding,
  type DeviceListFields,
  deviceBinding,
  deviceListBytesMax,
  encodeDeviceList,
  type VerifiedDeviceList,
  verifyDeviceList,
} from "./device-record/device-list.ts";
export { areMutuallyLinked, isRecordCurrent } from "./device-record/links.ts";
export {
  DeviceRegistry,
  type RecordOutcome,
  type RevocationOutcome,
} from "./device-record/registry.ts";
export {
  createDeviceRevocation,
  type DeviceRevocationFields,
  type DeviceRevocationVerification,
  type VerifiedDeviceRevocation,
  verifyDeviceRevocation,
} from "./device-record/revocation.ts";
export type { DeviceRecordBody } from "./device-record/schema.ts";
export { VerifiedSignatureCache } from "./device-record/signature-cache.ts";
export {
  type DeviceRecordVerification,
  type VerifiedDeviceRecord,
  verifyDeviceRecord,
} from "./device-record/verify.ts";
export {
  type ErrorCategory,
  type ErrorCode,
  type ErrorCodeEntry,
  errorCodeEntry,
  errorCodeList,
  errorCodes,
  isErrorCode,
} from "./errors/codes.ts";
export {
  fromWireError,
  isParleyError,
  ParleyError,
  type ParleyErrorOptions,
  rateLimited,
  toParleyError,
  type WireError,
} from "./errors/parley-error.ts";
export {
  type ContentId,
  type ContentIdParts,
  contentIdOf,
  contentIdParts,
  parseContentId,
} from "./identifiers/content-id.ts";
export {
  type DeviceId,
  deviceIdFromPublicKey,
  parseDeviceId,
  publicKeyOfDevice,
} from "./identifiers/device-id.ts";
export {
  generateRoomId,
  parseRoomId,
  type RandomBytes,
  type RoomId,
  roomIdBytesOf,
  roomIdFromBytes,
} from "./identifiers/room-id.ts";
export {
  type HostKind,
  isLoopbackServerName,
  isServerName,
  parseServerName,
  type ServerName,
  type ServerNameParts,
  serverNameFromUserInput,
  serverNameParts,
} from "./identifiers/server-name.ts";
export {
  isUserId,
  makeUserId,
  parseUserId,
  serverOfUser,
  type UserId,
  type UserIdParts,
  userIdParts,
} from "./identifiers/user-id.ts";
export type { DecodeLimits } from "./limits.ts";
export * as limits from "./limits.ts";
export {
  roomMessageBodyBytesMax,
  roomMessageClientIdPattern,
  roomMessageContentTypeBytesMax,
} from "./room-message/limits.ts";
export {
  type RoomMessageFields,
  roomMessageSignatureContext,
  roomMessageSignedMessage,
  signRoomMessage,
  type VerifiedRoomMessage,
  verifyRoomMessage,
  verifyStoredRoomMessage,
} from "./room-message/room-message.ts";
export {
  createServerKeyDocument,
  type ServerKeyDocumentInput,
  type ServerKeyDocumentVerification,
  type VerifiedServerKeyDocument,
  verifyServerKeyDocument,
} from "./server-keys/document.ts";
export {
  findServerKey,
  isServerKeyValidAt,
  type ServerKeyList,
  serverKeysValidAt,
  serverKeyValidAt,
} from "./server-keys/lookup.ts";
export type { ServerKeyEntry } from "./server-keys/schema.ts";
