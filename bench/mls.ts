/**
 * The MLS layer (@parley/mls on ts-mls 1.6.4) at N = 10, 100 and 500 members,
 * with each of ts-mls's two crypto providers: adding N devices in one commit,
 * joining from the Welcome, processing a commit as a member, the sponsors'
 * public check of the same commit, and application message throughput.
 *
 * Commits are measured twice: right after the bulk add (every parent node of
 * the tree blank) and after filling the tree (every device on an even leaf
 * refreshed its direct path by rejoining, so every parent node is set). The
 * fill takes N/2 commits, so it is done for N ≤ 100 only.
 *
 * Operations on immutable values (preparing, processing and checking a
 * commit, joining) are repeated from the same input and the median kept.
 * Credential proofs are checked with the node:crypto signature provider.
 */

import {
  checkCommit,
  commitAccepted,
  createMlsCrypto,
  createRoomGroup,
  type DeviceIdentity,
  encryptMessage,
  externalJoinMaterial,
  generateKeyPackages,
  joinFromWelcome,
  type KeyPackageBundle,
  loadSponsorGroup,
  type MlsCrypto,
  type MlsCryptoOptions,
  type MlsMember,
  openMemberState,
  type PendingCommit,
  prepareCommit,
  prepareExternalJoin,
  processMessage,
  type SponsorGroup,
  sealMemberState,
} from "@parley/mls";
import { nodePrimitives } from "@parley/mls/node";
import { keyPairFromSeed, parseUserId, roomIdFromBytes, sha256 } from "@parley/protocol";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { type Benchmark, type BenchmarkOptions, type Figure, median } from "./harness.ts";

/** One way of running the cipher suite: a ts-mls provider, with or without Parley's node:crypto primitives. */
interface CryptoVariant {
  readonly label: string;
  readonly options: Omit<MlsCryptoOptions, "signatureProvider">;
}

const variants: readonly CryptoVariant[] = [
  { label: "webcrypto", options: { provider: "webcrypto" } },
  { label: "noble", options: { provider: "noble" } },
  { label: "node:crypto", options: { provider: "webcrypto", primitives: nodePrimitives } },
];

/** A median with the smallest and largest of the rounds it was taken from. */
interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly rounds: number;
}

function spreadOf(values: readonly number[]): Spread {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    rounds: values.length,
  };
}

function spreadNote(spread: Spread, unit: string): string {
  const digits = (value: number) => (value >= 100 ? value.toFixed(0) : value.toPrecision(3));
  return `median of ${spread.rounds}, min–max ${digits(spread.min)}–${digits(spread.max)} ${unit}`;
}

/** CPU time of this process (every thread, so WebCrypto's pool counts too), in milliseconds. */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

const roomId = roomIdFromBytes(
  sha256(new TextEncoder().encode("parley bench room")).subarray(0, 16),
);
const sealingKey = new Uint8Array(32).fill(42);
const payload = new Uint8Array(200).fill(7);

interface Scale {
  readonly members: number;
  readonly rounds: number;
  readonly messages: number;
  readonly fill: boolean;
}

function identity(index: number): DeviceIdentity {
  const seed = sha256(new TextEncoder().encode(`parley bench device ${index}`));
  return {
    user: parseUserId(`user${index}@bench.example`),
    keyPair: keyPairFromSeed(nodeSignatureProvider, seed),
  };
}

/**
 * Runs `operation` once to warm up (JIT, caches), then `rounds` times, and
 * returns the spread of the timed rounds with the last result.
 */
async function timed<Result>(
  rounds: number,
  operation: () => Promise<Result>,
): Promise<[Spread, Result]> {
  let result = await operation();
  const times: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const start = performance.now();
    result = await operation();
    times.push(performance.now() - start);
  }
  return [spreadOf(times), result];
}

function expectKind<Value extends { readonly kind: string }, Kind extends Value["kind"]>(
  value: Value,
  kind: Kind,
): Extract<Value, { kind: Kind }> {
  if (value.kind !== kind) throw new Error(`expected ${kind}, got ${JSON.stringify(value)}`);
  return value as Extract<Value, { kind: Kind }>;
}

/** One group of `scale.members` devices plus Alice, who creates it. */
class BenchGroup {
  private constructor(
    readonly crypto: MlsCrypto,
    readonly scale: Scale,
    readonly nowMs: number,
    private alice: MlsMember,
    /** The device on the last leaf, which receives and is measured. */
    private receiver: MlsMember,
    private sponsor: SponsorGroup,
  ) {}

  /** Alice creates the group and adds everyone in one commit; the last device joins. */
  static async addEveryone(
    crypto: MlsCrypto,
    scale: Scale,
    figures: Figure[],
    label: string,
  ): Promise<BenchGroup> {
    const nowMs = Date.now();
    const created = await createRoomGroup(crypto, identity(0), { roomId, nowMs });
    const bundles: KeyPackageBundle[] = [];
    for (let index = 1; index <= scale.members; index += 1) {
      const batch = await generateKeyPackages(crypto, identity(index), { count: 1, nowMs });
      bundles.push(...batch.oneTime);
    }
    const add = bundles.map((bundle) => bundle.keyPackage);
    const [addMs, prepared] = await timed(scale.rounds, () =>
      prepareCommit(created.member, { add }, { nowMs }),
    );
    const pending = expectKind(prepared, "prepared").pending;
    const welcome = pending.welcome ?? new Uint8Array();
    const last = bundles.slice(-1);
    const [joinMs, joined] = await timed(scale.rounds, () =>
      joinFromWelcome(crypto, {
        roomId,
        welcome,
        ratchetTree: pending.ratchetTree,
        keyPackages: last,
      }),
    );
    const loaded = await loadSponsorGroup(crypto, {
      roomId,
      groupInfo: pending.groupInfo,
      ratchetTree: pending.ratchetTree,
    });
    const kilobytes = (welcome.length + pending.ratchetTree.length) / 1024;
    figures.push(
      {
        name: `${label}: add N devices in one commit`,
        value: addMs.median,
        unit: "ms",
        note: `committer side; ${spreadNote(addMs, "ms")}`,
      },
      {
        name: `${label}: join from the Welcome`,
        value: joinMs.median,
        unit: "ms",
        note: `Welcome + tree ${kilobytes.toFixed(0)} KB; ${spreadNote(joinMs, "ms")}`,
      },
    );
    return new BenchGroup(
      crypto,
      scale,
      nowMs,
      commitAccepted(created.member, pending),
      expectKind(joined, "joined").member,
      expectKind(loaded, "loaded").group,
    );
  }

  /** Alice commits an update; the receiver processes it and a sponsor checks it. */
  async measureUpdate(
    figures: Figure[],
    label: string,
    tree: string,
    target?: string,
  ): Promise<void> {
    const [prepareMs, prepared] = await timed(this.scale.rounds, () =>
      prepareCommit(this.alice, {}, { nowMs: this.nowMs }),
    );
    const pending = expectKind(prepared, "prepared").pending;
    const [processMs, processed] = await timed(this.scale.rounds, () =>
      processMessage(this.receiver, pending.commit),
    );
    const [sponsorMs, checked] = await timed(this.scale.rounds, () =>
      checkCommit(this.sponsor, pending.commit, {
        nowMs: this.nowMs,
        groupInfo: pending.groupInfo,
      }),
    );
    this.settle(pending, expectKind(processed, "commit").member, expectKind(checked, "valid").next);
    figures.push(
      {
        name: `${label}: process a commit as a member (${tree})`,
        value: processMs.median,
        unit: "ms",
        note: `${target === undefined ? "" : `${target}; `}${spreadNote(processMs, "ms")}`,
      },
      {
        name: `${label}: sponsor checks the commit (${tree})`,
        value: sponsorMs.median,
        unit: "ms",
        note: `public view, no secrets; ${spreadNote(sponsorMs, "ms")}`,
      },
      {
        name: `${label}: create the commit (${tree})`,
        value: prepareMs.median,
        unit: "ms",
        note: `${pending.commit.length} bytes; ${spreadNote(prepareMs, "ms")}`,
      },
    );
  }

  private settle(pending: PendingCommit, receiver: MlsMember, sponsor: SponsorGroup): void {
    this.alice = commitAccepted(this.alice, pending);
    this.receiver = receiver;
    this.sponsor = sponsor;
  }

  /**
   * Every device on an even leaf (2, 4, ...) rejoins by external commit,
   * which sets every node of its direct path. A rejoin needs no catch-up, so
   * the fill costs N/2 commits instead of N/2 devices processing them all.
   */
  async fillTree(): Promise<void> {
    for (let leaf = 2; leaf < this.scale.members; leaf += 2) {
      const material = externalJoinMaterial(this.sponsor);
      if (material === undefined) throw new Error("no GroupInfo");
      const prepared = await prepareExternalJoin(this.crypto, identity(leaf), {
        roomId,
        ...material,
        nowMs: this.nowMs,
      });
      const pending = expectKind(prepared, "prepared").pending;
      const checked = await checkCommit(this.sponsor, pending.commit, {
        nowMs: this.nowMs,
        groupInfo: pending.groupInfo,
      });
      this.sponsor = expectKind(checked, "valid").next;
      this.alice = expectKind(await processMessage(this.alice, pending.commit), "commit").member;
      this.receiver = expectKind(
        await processMessage(this.receiver, pending.commit),
        "commit",
      ).member;
    }
  }

  /**
   * Alice encrypts and the receiver decrypts 200-byte messages, after a
   * warm-up of `warmUpMessages`. Each round's rate is measured on the wall
   * clock and on this process's CPU time; the CPU figure moves less with
   * the machine's load.
   */
  async measureMessages(figures: Figure[], label: string): Promise<void> {
    const warmUpMessages = Math.min(20, this.scale.messages);
    await this.exchange(warmUpMessages);
    const pairRates: number[] = [];
    const cpuRates: number[] = [];
    let encryptMs = 0;
    let decryptMs = 0;
    for (let round = 0; round < Math.max(5, this.scale.rounds); round += 1) {
      const startMs = performance.now();
      const startCpuMs = cpuMs();
      const split = await this.exchange(this.scale.messages);
      encryptMs += split.encryptMs;
      decryptMs += split.decryptMs;
      pairRates.push((this.scale.messages * 1000) / (performance.now() - startMs));
      cpuRates.push((this.scale.messages * 1000) / Math.max(cpuMs() - startCpuMs, 0.001));
    }
    const pairs = spreadOf(pairRates);
    const cpu = spreadOf(cpuRates);
    const count = this.scale.messages * pairRates.length;
    figures.push(
      {
        name: `${label}: encrypt + decrypt (200 B)`,
        value: pairs.median,
        unit: "msg/s",
        note: `one client encrypts, one decrypts; target 2,000 msg/s; ${spreadNote(pairs, "msg/s")}`,
      },
      {
        name: `${label}: encrypt + decrypt per CPU second`,
        value: cpu.median,
        unit: "msg/s",
        note: `process CPU time, all threads; ${spreadNote(cpu, "msg/s")}`,
      },
      { name: `${label}: encrypt alone`, value: (count * 1000) / encryptMs, unit: "msg/s" },
      { name: `${label}: decrypt alone`, value: (count * 1000) / decryptMs, unit: "msg/s" },
    );
  }

  /** `messages` encrypt-then-decrypt pairs; the time spent in each half. */
  private async exchange(messages: number) {
    let encryptMs = 0;
    let decryptMs = 0;
    for (let index = 0; index < messages; index += 1) {
      const before = performance.now();
      const encrypted = expectKind(await encryptMessage(this.alice, payload), "encrypted");
      const between = performance.now();
      const decrypted = expectKind(
        await processMessage(this.receiver, encrypted.message),
        "application",
      );
      decryptMs += performance.now() - between;
      encryptMs += between - before;
      this.alice = encrypted.member;
      this.receiver = decrypted.member;
    }
    return { encryptMs, decryptMs };
  }

  async measureSealing(figures: Figure[], label: string): Promise<void> {
    const [sealMs, sealed] = await timed(this.scale.rounds, () =>
      sealMemberState(this.receiver, sealingKey),
    );
    const [openMs] = await timed(this.scale.rounds, () =>
      openMemberState(this.crypto, sealed, sealingKey, { roomId }),
    );
    figures.push({
      name: `${label}: seal + open member state`,
      value: sealMs.median + openMs.median,
      unit: "ms",
      note: `${(sealed.length / 1024).toFixed(0)} KB sealed, past epochs included`,
    });
  }
}

async function measure(variant: CryptoVariant, scale: Scale): Promise<Figure[]> {
  const crypto = await createMlsCrypto({
    signatureProvider: nodeSignatureProvider,
    ...variant.options,
  });
  const label = `${variant.label}, N=${scale.members}`;
  const figures: Figure[] = [];
  const group = await BenchGroup.addEveryone(crypto, scale, figures, label);
  const target = scale.members === 100 ? "target < 100 ms" : undefined;
  await group.measureUpdate(figures, label, "after the bulk add", target);
  if (scale.fill) {
    await group.fillTree();
    await group.measureUpdate(figures, label, "tree filled", target);
  }
  await group.measureMessages(figures, label);
  await group.measureSealing(figures, label);
  return figures;
}

export const mlsBenchmark: Benchmark = {
  name: "mls",
  description: "MLS groups on ts-mls 1.6.4: add, join, commit processing, sponsor checks, messages",
  async run(options: BenchmarkOptions): Promise<readonly Figure[]> {
    const scales: readonly Scale[] = options.smoke
      ? [{ members: 3, rounds: 1, messages: 3, fill: true }]
      : [
          { members: 10, rounds: 5, messages: 200, fill: true },
          { members: 100, rounds: 5, messages: 200, fill: true },
          { members: 500, rounds: 3, messages: 100, fill: false },
        ];
    const figures: Figure[] = [];
    for (const variant of variants) {
      for (const scale of scales) figures.push(...(await measure(variant, scale)));
    }
    return figures;
  },
};
