import { equalBytes, ParleyError } from "@parley/protocol";
import type { ClientState, EpochReceiverData } from "ts-mls";
import type { MlsFailure } from "../errors.ts";
import type { GroupChange } from "../group/change.ts";
import { leafOfDevice } from "../group/roster.ts";
import { verifyKeyPackageBytes } from "../key-package/verify.ts";
import { type CommitIntent, type PendingCommit, prepareCommit } from "./commit.ts";
import { epochOf, type MlsMember, withState } from "./member.ts";
import { processMessage } from "./process.ts";

/**
 * The sponsors ordered this member's pending commit first: adopt the state it
 * leads to. Application messages processed or sent while it was pending
 * advanced the old epoch's key ratchets; those advances are carried into the
 * past-epoch data of the new state, so a message key used once stays used.
 * Throws `invalid_argument` for a pending commit of another epoch or group.
 */
export function commitAccepted(member: MlsMember, pending: PendingCommit): MlsMember {
  assertSettles(member, pending);
  const past = new Map<bigint, EpochReceiverData>(pending.newState.historicalReceiverData);
  for (const [epoch, data] of past) {
    if (epoch === pending.baseEpoch) {
      past.set(epoch, { ...data, secretTree: member.state.secretTree });
    } else {
      const latest = member.state.historicalReceiverData.get(epoch);
      if (latest !== undefined) past.set(epoch, latest);
    }
  }
  const state: ClientState = { ...pending.newState, historicalReceiverData: past };
  return withState(member, state);
}

export type LostOutcome =
  /** The winner is applied and a new commit carries what is left of the intent: order it. */
  | {
      readonly kind: "retry";
      readonly member: MlsMember;
      readonly winner: GroupChange;
      readonly pending: PendingCommit;
    }
  /** The winner is applied and already did everything the intent asked. */
  | { readonly kind: "settled"; readonly member: MlsMember; readonly winner: GroupChange }
  /** The winner removed this device. */
  | { readonly kind: "removed"; readonly member: MlsMember; readonly winner: GroupChange }
  /** The winner cannot be processed (`mls_commit_unprocessable`): rejoin with `prepareRejoin`. */
  | MlsFailure;

/**
 * Another commit was ordered first for the pending commit's epoch (the
 * sponsors answered "stale epoch"). Drops the pending commit, processes the
 * winner from the current state, and rebuilds the commit for what the winner
 * did not already do: devices it added are not added again, devices it
 * removed are not removed again. An update (empty intent) is always retried.
 */
export async function commitLost(
  member: MlsMember,
  pending: PendingCommit,
  winner: Uint8Array,
  options: { readonly nowMs: number },
): Promise<LostOutcome> {
  assertSettles(member, pending);
  if (equalBytes(winner, pending.commit)) {
    throw new ParleyError("invalid_argument", "the winner is this pending commit: commitAccepted");
  }
  const processed = await processMessage(member, winner);
  switch (processed.kind) {
    case "failed":
      return processed;
    case "removed":
      return { kind: "removed", member: processed.member, winner: processed.change };
    case "commit":
      break;
    default:
      throw new ParleyError("invalid_argument", `the winner is not a commit (${processed.kind})`);
  }
  const next = processed.member;
  const intent = await remainingIntent(next, pending.intent, options.nowMs);
  const wasUpdate = pending.intent.add.length === 0 && pending.intent.remove.length === 0;
  const nothingLeft = (intent.add?.length ?? 0) === 0 && (intent.remove?.length ?? 0) === 0;
  if (nothingLeft && !wasUpdate) {
    return { kind: "settled", member: next, winner: processed.change };
  }
  const retry = await prepareCommit(next, intent, options);
  if (retry.kind === "failed") return retry;
  return { kind: "retry", member: next, winner: processed.change, pending: retry.pending };
}

async function remainingIntent(
  member: MlsMember,
  intent: PendingCommit["intent"],
  nowMs: number,
): Promise<CommitIntent> {
  const tree = member.state.ratchetTree;
  const add: Uint8Array[] = [];
  for (const bytes of intent.add) {
    const verified = await verifyKeyPackageBytes(member.crypto, bytes, nowMs);
    // A KeyPackage that no longer verifies (expired meanwhile) is dropped;
    // the caller sees the device missing from the retry's change.
    if (verified.kind === "valid" && leafOfDevice(tree, verified.keyPackage.device) === undefined) {
      add.push(bytes);
    }
  }
  const remove = intent.remove.filter((device) => leafOfDevice(tree, device) !== undefined);
  return { add, remove };
}

function assertSettles(member: MlsMember, pending: PendingCommit): void {
  if (pending.roomId !== member.roomId || pending.baseEpoch !== epochOf(member)) {
    throw new ParleyError(
      "invalid_argument",
      `the pending commit is for epoch ${pending.baseEpoch}, the member is at ${epochOf(member)}`,
    );
  }
}
