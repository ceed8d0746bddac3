/**
 * Every bound the MLS layer enforces, with why it has its value. The ones a
 * peer must also respect (message sizes, the past-epoch window) are part of
 * the protocol and repeated in docs/protocol.md, chapter 13.
 */
export const mlsLimits = {
  /**
   * One encoded MLS message (commit, proposal, application message, Welcome,
   * GroupInfo) taken from the network. A Welcome or GroupInfo carrying a
   * 1,000-member ratchet tree is about 350 KB; a commit for 1,000 members
   * about 85 KB. Four MiB leaves room for the largest rooms we plan for
   * (membersMax) without letting one frame exhaust memory.
   */
  messageBytesMax: 4 * 1024 * 1024,
  /** An encoded ratchet tree travels beside Welcomes and GroupInfos, same bound. */
  ratchetTreeBytesMax: 4 * 1024 * 1024,
  /** One KeyPackage is about 325 bytes; 4 KiB allows extensions without allowing abuse. */
  keyPackageBytesMax: 4 * 1024,
  /**
   * Members of one MLS group. Every member is one device; ts-mls processes a
   * commit at 1,000 members in about a second, which is the most a phone
   * should spend on one control entry.
   */
  membersMax: 1_000,
  /** Adds and removes in one commit: a bulk invite of a team, not of a city. */
  proposalsPerCommitMax: 500,
  /** One-time KeyPackages generated in one batch; a device uploads them in one request. */
  keyPackageBatchMax: 200,
  /** Application plaintext; files travel as references with their own limits. */
  plaintextBytesMax: 256 * 1024,
  /** Authenticated data attached to an application message: ids, not content. */
  authenticatedDataBytesMax: 1024,
  /**
   * Past epochs whose application messages still decrypt (ts-mls
   * `retainKeysForEpochs`). Messages travel on the message lane without
   * consensus, so a message sent just before a commit can arrive after it, or
   * after a few more during a netsplit. Each retained epoch keeps a copy of the
   * ratchet tree and secret tree in the member's state, so the window is a
   * trade between late delivery and state size (see README).
   */
  pastEpochWindow: 4,
  /**
   * Skipped message keys kept per sender and epoch (ts-mls
   * `retainKeysForGenerations`): messages of one sender arriving out of order
   * by up to this many positions still decrypt.
   */
  outOfOrderMessagesMax: 64,
  /**
   * How far ahead of the last message seen from a sender a new message may
   * be (ts-mls `maximumForwardRatchetSteps`). Bounds the hashing an attacker
   * can make a receiver do with one forged generation number.
   */
  forwardRatchetStepsMax: 1_000,
  /**
   * Lifetime of a generated KeyPackage. Devices refresh their one-time
   * KeyPackages well before; a stale KeyPackage would let a compromised
   * init key be used long after the device forgot it.
   */
  keyPackageLifetimeMs: 90 * 24 * 60 * 60 * 1000,
  /** Clock skew tolerated when checking a KeyPackage's lifetime against our clock. */
  keyPackageClockSkewMs: 60 * 60 * 1000,
  /**
   * Verified credential proofs remembered per MlsCrypto. A member meets the
   * same leaves at every join and commit; caching skips one Ed25519
   * verification per leaf. About 100 bytes an entry.
   */
  credentialCacheEntriesMax: 16_384,
  /** One sealed state blob: a 1,000-member state with its past epochs is about 2 MB. */
  sealedStateBytesMax: 64 * 1024 * 1024,
  /** Proposals a sponsor keeps for the current epoch before refusing more. */
  pendingProposalsMax: 256,
} as const;
