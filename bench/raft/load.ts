/**
 * The load generator shared by the in-process and the loopback benchmarks:
 * keeps `concurrency` proposals in flight on the leader, each stamped with a
 * sequence number, and measures each one from propose until the leader
 * applies it. It stops proposing after `count` proposals or `durationMs`,
 * whichever comes first, and is finished once nothing is in flight any more
 * (or, if entries were lost to a leader change, a grace period later).
 */
import { percentile } from "../harness.ts";

export interface LoadOptions {
  /** Proposals kept in flight at once (1 measures latency at low load). */
  readonly concurrency: number;
  /** Most proposals made in total. */
  readonly count: number;
  /** Most time spent proposing, in milliseconds. */
  readonly durationMs: number;
  /** Bytes of each proposal's payload (at least 12: marker and sequence number). */
  readonly payloadBytes: number;
}

export interface LoadResult {
  readonly committed: number;
  readonly elapsedMs: number;
  readonly entriesPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

/**
 * Marks a payload as one of ours, so the leader's empty entries (and the
 * entries of an earlier run on the same group) are told apart.
 */
const LOAD_MARKER = 0x4c4f4100;
const GRACE_MS = 2_000;

/**
 * A payload of `bytes` (at least 12) starting with `marker` and `sequence`,
 * both as 32-bit big-endian integers, then a sequence-dependent filler.
 * Written byte by byte: a DataView per proposal showed up in the profile.
 */
export function loadPayload(sequence: number, bytes: number, marker: number): Uint8Array {
  const data = new Uint8Array(Math.max(12, bytes));
  writeUint32(data, 0, marker);
  writeUint32(data, 4, sequence);
  writeUint32(data, 8, sequence ^ 0x5a5a5a5a);
  return data;
}

/** The sequence number of one of our payloads marked `marker`, or null for any other entry. */
export function payloadSequence(data: Uint8Array, marker: number): number | null {
  if (data.byteLength < 12 || readUint32(data, 0) !== marker) return null;
  return readUint32(data, 4);
}

function writeUint32(data: Uint8Array, at: number, value: number): void {
  data[at] = value >>> 24;
  data[at + 1] = (value >>> 16) & 0xff;
  data[at + 2] = (value >>> 8) & 0xff;
  data[at + 3] = value & 0xff;
}

function readUint32(data: Uint8Array, at: number): number {
  return (
    (((data[at] ?? 0) << 24) |
      ((data[at + 1] ?? 0) << 16) |
      ((data[at + 2] ?? 0) << 8) |
      (data[at + 3] ?? 0)) >>>
    0
  );
}

export class LoadGenerator {
  private readonly startTimes: Float64Array;
  private readonly latencies: number[] = [];
  private proposed = 0;
  private inFlight = 0;
  private startMs = 0;
  private lastCommitMs = 0;
  private stopProposingAtMs = 0;

  constructor(
    readonly options: LoadOptions,
    /** Proposes one payload on the leader; false if it was not accepted. */
    private readonly propose: (data: Uint8Array) => boolean,
    /** Distinguishes this run's entries from earlier runs' on the same group (0 to 255). */
    private readonly run = 0,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.startTimes = new Float64Array(options.count);
  }

  start(): void {
    this.startMs = this.now();
    this.lastCommitMs = this.startMs;
    this.stopProposingAtMs = this.startMs + this.options.durationMs;
    this.pump();
  }

  /** Tops the in-flight proposals up to the concurrency, unless proposing has stopped. */
  pump(): void {
    const now = this.now();
    if (now >= this.stopProposingAtMs) return;
    while (this.inFlight < this.options.concurrency && this.proposed < this.options.count) {
      const sequence = this.proposed;
      this.startTimes[sequence] = now;
      if (!this.propose(loadPayload(sequence, this.options.payloadBytes, LOAD_MARKER + this.run))) {
        return;
      }
      this.proposed++;
      this.inFlight++;
    }
  }

  /** Called for every entry the leader applies; returns whether it was one of ours. */
  applied(data: Uint8Array): boolean {
    const sequence = payloadSequence(data, LOAD_MARKER + this.run);
    if (sequence === null || sequence >= this.proposed) return false;
    const now = this.now();
    this.latencies.push(now - (this.startTimes[sequence] ?? now));
    this.lastCommitMs = now;
    this.inFlight--;
    return true;
  }

  get finished(): boolean {
    const now = this.now();
    const doneProposing = this.proposed >= this.options.count || now >= this.stopProposingAtMs;
    if (!doneProposing) return false;
    return this.inFlight <= 0 || now >= this.stopProposingAtMs + GRACE_MS;
  }

  result(): LoadResult {
    const committed = this.latencies.length;
    const elapsedMs = Math.max(this.lastCommitMs - this.startMs, 1e-3);
    return {
      committed,
      elapsedMs,
      entriesPerSecond: (committed * 1000) / elapsedMs,
      latencyP50Ms: committed === 0 ? Number.NaN : percentile(this.latencies, 50),
      latencyP99Ms: committed === 0 ? Number.NaN : percentile(this.latencies, 99),
    };
  }
}
