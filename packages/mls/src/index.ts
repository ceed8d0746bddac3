/**
 * @parley/mls: end-to-end encryption of Parley rooms with MLS (RFC 9420), on
 * ts-mls 1.6.4.
 *
 * What it does:
 * - device side: KeyPackages (one-time and last resort) whose credentials
 *   bind a Parley device and user to the leaf key; a room's group (id
 *   derived from the room id); commits that add and remove devices, as
 *   PublicMessage; joining from a Welcome or by external commit; application
 *   messages as PrivateMessage; processing in the sponsors' order, with the
 *   ordering made explicit (`prepareCommit` → `commitAccepted` or
 *   `commitLost`); recovery by rejoining; outcomes as tagged unions;
 * - state at rest: members and KeyPackage secrets sealed with a key the
 *   user holds (storage/envelope.ts has the format);
 * - sponsor side: the public view of a group a non-member server holds,
 *   which checks commits and proposals before they are ordered, lists what
 *   they change, and serves GroupInfo and tree for external joins.
 *
 * What it does not: no IO, no clock (callers pass `nowMs`), no ordering
 * (the federation layer's Raft log orders commits), no storage (callers
 * store sealed blobs), no delivery of Welcomes. It does not decide who may
 * join or leave a room: it lists what a commit does and the room state
 * machine decides. It does not check that a device belongs to the user its
 * credential names; the device identity records do (@parley/protocol).
 *
 * What callers owe it:
 * - one MlsCrypto per process (or per provider), made by `createMlsCrypto`;
 * - handshake messages in the order the sponsors committed them, each once;
 *   application messages in any order;
 * - to carry on with the member each operation returns, sealing it before
 *   acting on the outcome, and to check the sealed sequence against rollback;
 * - to deliver a Welcome only after its commit was accepted;
 * - to send the GroupInfo (and tree) produced with every commit along with it.
 *
 * The protocol chapter is docs/protocol.md, chapter 13; README.md has the formats and figures.
 */

export {
  createCredential,
  credentialOf,
  credentialProofContext,
  type DeviceCredential,
  type DeviceIdentity,
  decodeIdentity,
  verifyCredential,
} from "./credential/identity.ts";
export {
  createMlsCrypto,
  type MlsCrypto,
  type MlsCryptoOptions,
  type MlsCryptoProviderName,
  parleyCipherSuiteName,
} from "./crypto/mls-crypto.ts";
export type { MlsPrimitives } from "./crypto/primitives.ts";
export {
  type MlsFailure,
  type MlsFailureCode,
  mlsFailureCodeList,
  mlsFailureToParleyError,
} from "./errors.ts";
export type { GroupChange } from "./group/change.ts";
export { type GroupIdParts, groupIdOf, groupIdParts } from "./group/group-id.ts";
export { type PrivateMessageHeader, readPrivateMessageHeader } from "./group/private-header.ts";
export type { GroupMember } from "./group/roster.ts";
export {
  generateKeyPackage,
  generateKeyPackages,
  type KeyPackageBatch,
  type KeyPackageBundle,
  lastResortExtensionType,
  parleyCapabilities,
} from "./key-package/generate.ts";
export {
  type KeyPackageVerification,
  type VerifiedKeyPackage,
  verifyKeyPackageBytes,
} from "./key-package/verify.ts";
export { mlsLimits } from "./limits.ts";
export { type EncryptOutcome, encryptMessage } from "./member/application.ts";
export {
  type CommitIntent,
  type PendingCommit,
  type PrepareOutcome,
  prepareCommit,
} from "./member/commit.ts";
export {
  type ExternalJoinOutcome,
  externalJoinAccepted,
  type PendingExternalJoin,
  prepareExternalJoin,
  prepareRejoin,
  proposeLeave,
  rejoinAccepted,
} from "./member/external-join.ts";
export {
  type CreatedGroup,
  createRoomGroup,
  type JoinOutcome,
  joinFromWelcome,
} from "./member/join.ts";
export {
  epochOf,
  groupInfoOf,
  isActive,
  type MlsMember,
  membersOfGroup,
  ownLeafIndex,
  ratchetTreeOf,
} from "./member/member.ts";
export { commitAccepted, commitLost, type LostOutcome } from "./member/ordering.ts";
export { type ProcessOutcome, type ProposalSummary, processMessage } from "./member/process.ts";
export { type CommitCheck, checkCommit } from "./sponsor/commit-check.ts";
export {
  checkProposal,
  externalJoinMaterial,
  type GroupInfoCheck,
  loadSponsorGroup,
  offerGroupInfo,
  type ProposalCheck,
  type SponsorGroup,
  type SponsorLoad,
  sponsorEpoch,
  sponsorMembers,
} from "./sponsor/public-group.ts";
export {
  decodeSponsorGroup,
  encodeSponsorGroup,
  type SponsorSnapshotLoad,
} from "./sponsor/snapshot.ts";
export { sealingKeyBytes } from "./storage/envelope.ts";
export {
  type OpenedPlaintexts,
  openPlaintexts,
  type SealedPlaintext,
  sealedPlaintextsMax,
  sealPlaintexts,
} from "./storage/sealed-plaintexts.ts";
export {
  type OpenedKeyPackages,
  type OpenedMember,
  openKeyPackages,
  openMemberState,
  sealKeyPackages,
  sealMemberState,
} from "./storage/sealed-state.ts";
