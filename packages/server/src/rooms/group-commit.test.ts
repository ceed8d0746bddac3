import { describe, expect, it } from "vitest";
import type { AppendOutcome, NewEvent, StoredEvent } from "../storage/records.ts";
import type { TransactionWrite } from "../storage/storage.ts";
import { GroupCommitter } from "./group-commit.ts";

/** An event repository that records each transaction: what it wrote alongside, which events. */
class RecordingEvents {
  readonly transactions: Array<{ alongside: string[]; events: string[] }> = [];
  #position = 0;

  async appendBatch(
    events: readonly NewEvent[],
    alongside?: TransactionWrite,
  ): Promise<readonly AppendOutcome[]> {
    const written: string[] = [];
    // The write receives the transaction; here a stand-in that records what is written.
    await alongside?.({ note: (text: string) => written.push(text) } as never);
    this.transactions.push({ alongside: written, events: events.map((e) => e.clientEventId) });
    return events.map((event) => {
      this.#position += 1;
      const stored: StoredEvent = {
        ...event,
        streamPosition: this.#position,
        roomSequence: this.#position,
      };
      return { kind: "appended", event: stored };
    });
  }
}

function newEvent(clientEventId: string): NewEvent {
  return {
    roomId: "room",
    senderUserId: "@alice:a.test",
    senderDeviceId: "device",
    clientEventId,
    contentType: "text/plain",
    body: new Uint8Array([1]),
    signature: null,
    controlIndex: 1,
    acceptedAtMs: 1000,
  };
}

function noting(text: string): TransactionWrite {
  return async (transaction) => {
    (transaction as unknown as { note: (text: string) => void }).note(text);
  };
}

describe("GroupCommitter", () => {
  it("writes appendAll's alongside in the transaction that stores its events, once", async () => {
    const events = new RecordingEvents();
    const published: number[] = [];
    const committer = new GroupCommitter(events, {
      published: (stored) => published.push(...stored.map((event) => event.streamPosition)),
    });
    const lone = committer.append(newEvent("lone"));
    const round = committer.appendAll([newEvent("a"), newEvent("b")], noting("flush"));
    const outcomes = await round;
    await lone;
    expect(events.transactions).toEqual([{ alongside: ["flush"], events: ["lone", "a", "b"] }]);
    expect(outcomes.map((outcome) => outcome.event.clientEventId)).toEqual(["a", "b"]);
    expect(published).toEqual([1, 2, 3]);
    await committer.close();
  });

  it("keeps each caller's alongside when rounds share a transaction, in the order they came", async () => {
    const events = new RecordingEvents();
    const committer = new GroupCommitter(events, { published: () => {} });
    await Promise.all([
      committer.appendAll([newEvent("a")], noting("first")),
      committer.appendAll([newEvent("b")], noting("second")),
    ]);
    expect(events.transactions).toEqual([{ alongside: ["first", "second"], events: ["a", "b"] }]);
    await committer.close();
  });
});
