import { parseServerName } from "@parley/protocol";
import { describe, expect, test } from "vitest";
import { OrderedHandoffs } from "./routed-verification.ts";

const peerA = parseServerName("a.example");
const peerB = parseServerName("b.example");

function deferred(): {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
} {
  let resolve = () => {};
  let reject: (error: Error) => void = () => {};
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

describe("OrderedHandoffs", () => {
  test("hands a peer's frames over in arrival order, each after what it waits for", async () => {
    const handoffs = new OrderedHandoffs();
    const calls: string[] = [];
    const slow = deferred();
    const first = handoffs.run(peerA, slow.promise, async () => {
      calls.push("first");
      return 1;
    });
    const second = handoffs.run(peerA, null, async () => {
      calls.push("second");
      return 2;
    });
    const otherPeer = handoffs.run(peerB, null, async () => {
      calls.push("other peer");
      return 3;
    });
    await otherPeer;
    expect(calls).toEqual(["other peer"]);
    slow.resolve();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(calls).toEqual(["other peer", "first", "second"]);
  });

  test("does not wait for an earlier frame's handling to finish, only for it to start", async () => {
    const handoffs = new OrderedHandoffs();
    const durable = deferred();
    const calls: string[] = [];
    const first = handoffs.run(peerA, Promise.resolve(), () => {
      calls.push("first");
      return durable.promise;
    });
    await handoffs.run(peerA, null, async () => {
      calls.push("second");
    });
    expect(calls).toEqual(["first", "second"]);
    durable.resolve();
    await first;
  });

  test("a wait that fails fails its own frame only", async () => {
    const handoffs = new OrderedHandoffs();
    const failing = deferred();
    const first = handoffs.run(peerA, failing.promise, async () => "never");
    const second = handoffs.run(peerA, null, async () => "second");
    failing.reject(new Error("pool gone"));
    await expect(first).rejects.toThrow("pool gone");
    expect(await second).toBe("second");
  });

  test("with nothing to wait for, the handoff happens at once", () => {
    const handoffs = new OrderedHandoffs();
    let called = false;
    void handoffs.run(peerA, null, async () => {
      called = true;
    });
    expect(called).toBe(true);
  });
});
