import { makeUserId, roomIdFromBytes, type ServerName } from "@parley/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sponsorNodeId } from "../identity/sponsor-node-id.ts";
import { visibleHistory } from "./history-order.ts";
import { messageKey, type StampedMessage, type StoredMessage } from "./stamped-message.ts";

const room = roomIdFromBytes(new Uint8Array(16));
const origins = [
  sponsorNodeId("a.test" as ServerName, 1),
  sponsorNodeId("b.test" as ServerName, 3),
  sponsorNodeId("c.test" as ServerName, 2),
];
const senders = ["u1", "u2"].map((local) => makeUserId(local, "a.test" as ServerName));

function message(
  origin: number,
  sequence: number,
  controlIndex: number,
  at: number,
  client: string,
) {
  return {
    room,
    origin: origins[origin] as StampedMessage["origin"],
    sequence,
    controlIndex,
    acceptedAtMs: at,
    sender: senders[sequence % 2] as StampedMessage["sender"],
    clientMessageId: client,
    body: new Uint8Array(),
  } satisfies StampedMessage;
}

const storedMessages = fc
  .array(
    fc.record({
      origin: fc.integer({ min: 0, max: 2 }),
      controlIndex: fc.integer({ min: 1, max: 4 }),
      at: fc.integer({ min: 0, max: 5 }),
      client: fc.constantFrom("x", "y", "z", "w"),
      refused: fc.boolean(),
    }),
    { maxLength: 30 },
  )
  .map((drafts) => {
    const sequences = [0, 0, 0];
    return drafts.map((draft): StoredMessage => {
      sequences[draft.origin] = (sequences[draft.origin] ?? 0) + 1;
      const sequence = sequences[draft.origin] as number;
      return {
        message: message(
          draft.origin,
          sequence,
          draft.controlIndex,
          draft.at,
          `${draft.client}${sequence % 3}`,
        ),
        verdict: draft.refused ? "refused" : "allowed",
      };
    });
  });

describe("history order", () => {
  it("does not depend on the order messages arrived in", () => {
    const withPermutation = storedMessages.chain((stored) =>
      fc.tuple(
        fc.constant(stored),
        fc.shuffledSubarray(stored, { minLength: stored.length, maxLength: stored.length }),
      ),
    );
    fc.assert(
      fc.property(withPermutation, ([stored, arrived]) => {
        const keys = (list: StoredMessage[]) => visibleHistory(list).map(messageKey);
        expect(keys(arrived)).toEqual(keys(stored));
      }),
    );
  });

  it("shows allowed messages only, each client message once, the first-sorting copy", () => {
    const first = message(1, 1, 2, 10, "same");
    const retry = { ...message(0, 1, 2, 12, "same"), sender: first.sender };
    const refused = message(2, 1, 1, 0, "gone");
    const history = visibleHistory([
      { message: retry, verdict: "allowed" },
      { message: refused, verdict: "refused" },
      { message: first, verdict: "allowed" },
    ]);
    expect(history.map(messageKey)).toEqual([messageKey(first)]);
  });

  it("orders by control index, then accepted time, then origin and sequence", () => {
    const late = message(0, 1, 1, 99, "a");
    const next = message(0, 2, 2, 5, "b");
    const tieA = message(0, 3, 3, 7, "c");
    const tieB = message(1, 4, 3, 7, "d");
    const ordered = visibleHistory(
      [tieB, next, tieA, late].map((m): StoredMessage => ({ message: m, verdict: "allowed" })),
    );
    expect(ordered.map(messageKey)).toEqual([late, next, tieA, tieB].map(messageKey));
  });
});
