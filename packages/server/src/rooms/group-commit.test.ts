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

  it("overlaps rounds when allowed, and still publishes and answers them in order", async () => {
    const pending: Array<{ events: readonly NewEvent[]; resolve: () => void }> = [];
    let position = 0;
    const events = {
      appendBatch(batch: readonly NewEvent[]): Promise<readonly AppendOutcome[]> {
        return new Promise((resolve) => {
          const outcomes = batch.map((event): AppendOutcome => {
            position += 1;
            return {
              kind: "appended",
              event: { ...event, streamPosition: position, roomSequence: position },
            };
          });
          pending.push({ events: batch, resolve: () => resolve(outcomes) });
        });
      },
    };
    const published: string[] = [];
    const answered: string[] = [];
    const committer = new GroupCommitter(events, {
      published: (stored) => published.push(...stored.map((event) => event.clientEventId)),
      commitsInFlightMax: 2,
    });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const first = committer.append(newEvent("a")).then(() => answered.push("a"));
    await turn();
    const second = committer.append(newEvent("b")).then(() => answered.push("b"));
    await turn();
    const third = committer.append(newEvent("c")).then(() => answered.push("c"));
    await turn();
    // Two rounds under way; the third waits for a free place.
    expect(pending.map((round) => round.events.map((event) => event.clientEventId))).toEqual([
      ["a"],
      ["b"],
    ]);
    pending[1]?.resolve();
    await turn();
    expect(published).toEqual([]);
    pending[0]?.resolve();
    await Promise.all([first, second]);
    expect(published).toEqual(["a", "b"]);
    expect(answered).toEqual(["a", "b"]);
    await turn();
    await turn();
    expect(pending.length).toBe(3);
    pending[2]?.resolve();
    await third;
    expect(published).toEqual(["a", "b", "c"]);
    await committer.close();
  });

  it("runs one round at a time by default", async () => {
    const pending: Array<() => void> = [];
    const events = {
      appendBatch(batch: readonly NewEvent[]): Promise<readonly AppendOutcome[]> {
        return new Promise((resolve) => {
          pending.push(() =>
            resolve(
              batch.map((event) => ({
                kind: "appended",
                event: { ...event, streamPosition: 1, roomSequence: 1 },
              })),
            ),
          );
        });
      },
    };
    const committer = new GroupCommitter(events, { published: () => {} });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const first = committer.append(newEvent("a"));
    await turn();
    const second = committer.append(newEvent("b"));
    await turn();
    expect(pending.length).toBe(1);
    pending[0]?.();
    await first;
    // The freed place is taken on a later turn.
    await turn();
    await turn();
    expect(pending.length).toBe(2);
    pending[1]?.();
    await second;
    await committer.close();
  });
});
