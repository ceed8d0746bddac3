/**
 * The whole-federation simulation with an encrypted room (real MLS through
 * @parley/mls on ts-mls): after every run every member's device is in the
 * room's epoch and decrypted every message of its membership, removed
 * devices cannot read what followed, users came back (invited again, and by
 * external join into the opened room), and commits raced for epochs (the
 * losers processed the winner and made their commit again).
 *
 *   ENCRYPTED_SEED=12 npx vitest run packages/federation/test/encrypted-simulation.test.ts
 *   ENCRYPTED_SEEDS=200 npx vitest run packages/federation/test/encrypted-simulation.test.ts
 *   npx tsx packages/federation/src/simulation/cli.ts --encrypted --seeds 200
 */
import { describe, expect, it } from "vitest";
import {
  type EncryptedSeedReport,
  runEncryptedSeed,
} from "../src/simulation/encrypted/run-encrypted-seed.ts";

const { ENCRYPTED_SEED, ENCRYPTED_SEEDS } = process.env;
const single = ENCRYPTED_SEED === undefined ? null : Number(ENCRYPTED_SEED);
/** MLS costs about 2 s of CPU per seed on a loaded 2-core machine: a few dozen in npm test. */
const seedCount = Number(ENCRYPTED_SEEDS ?? 24);
const batchSize = 6;
const chaosMs = 3_000;

async function check(seed: number): Promise<EncryptedSeedReport> {
  const report = await runEncryptedSeed(seed, { chaosMs });
  if (!report.ok) {
    console.error(
      `encrypted seed ${seed} failed; replay: ENCRYPTED_SEED=${seed} npx vitest run packages/federation/test/encrypted-simulation.test.ts\n  ${report.violations.join("\n  ")}`,
    );
  }
  expect(report.violations, `seed ${seed}`).toEqual([]);
  return report;
}

describe("whole-federation simulation, encrypted room", () => {
  if (single !== null) {
    it(`seed ${single}`, { timeout: 120_000 }, async () => {
      await check(single);
    });
    return;
  }

  it("replays a seed exactly (same network fingerprint, epochs, races and messages)", {
    timeout: 120_000,
  }, async () => {
    const first = await runEncryptedSeed(7, { chaosMs });
    const second = await runEncryptedSeed(7, { chaosMs });
    expect(second).toEqual(first);
  });

  const totals = {
    commitsLost: 0,
    removedDevices: 0,
    messagesDecrypted: 0,
    returnsByInvite: 0,
    returnsOpen: 0,
    devicesJoinedLater: 0,
  };
  for (let first = 1; first <= seedCount; first += batchSize) {
    const last = Math.min(seedCount, first + batchSize - 1);
    it(`seeds ${first}–${last}`, { timeout: 600_000 }, async () => {
      for (let seed = first; seed <= last; seed += 1) {
        const report = await check(seed);
        totals.commitsLost += report.commitsLost;
        totals.removedDevices += report.removedDevices;
        totals.messagesDecrypted += report.messagesDecrypted;
        totals.returnsByInvite += report.returnsByInvite;
        totals.returnsOpen += report.returnsOpen;
        totals.devicesJoinedLater += report.devicesJoinedLater;
      }
    });
  }

  it("the seeds raced commits, removed devices, brought users back and decrypted messages", () => {
    expect(totals.commitsLost).toBeGreaterThan(0);
    expect(totals.removedDevices).toBeGreaterThan(0);
    expect(totals.messagesDecrypted).toBeGreaterThan(0);
    expect(totals.returnsByInvite).toBeGreaterThan(0);
    expect(totals.returnsOpen).toBeGreaterThan(0);
    expect(totals.devicesJoinedLater).toBeGreaterThan(0);
  });
});
