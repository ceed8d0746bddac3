import { describe, expect, it } from "vitest";
import { InFlightWork, ShuttingDownError } from "./in-flight.ts";

describe("in-flight work", () => {
  it("drain waits for running work, then refuses new work", async () => {
    const work = new InFlightWork();
    let finished = false;
    let release: () => void = () => {};
    const running = work.run(
      () =>
        new Promise<void>((resolve) => {
          release = () => {
            finished = true;
            resolve();
          };
        }),
    );
    expect(work.size).toBe(1);
    const drained = work.drain(5000);
    await expect(work.run(async () => 1)).rejects.toThrow(ShuttingDownError);
    release();
    expect(await drained).toBe(true);
    expect(finished).toBe(true);
    await running;
    expect(work.size).toBe(0);
  });

  it("gives up after the grace period and says so", async () => {
    const work = new InFlightWork();
    void work.run(() => new Promise<void>(() => {}));
    expect(await work.drain(20)).toBe(false);
  });

  it("a failing task leaves the tracker and does not block the drain", async () => {
    const work = new InFlightWork();
    await expect(work.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await work.drain(100)).toBe(true);
  });
});
