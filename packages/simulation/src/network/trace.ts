import { networkTraceEventsMax } from "../limits.ts";
import { ensure } from "../misuse.ts";

/** What happened on the network. */
export type NetworkTraceKind =
  | "send"
  | "deliver"
  | "drop"
  | "hold"
  | "partition"
  | "partition-removed"
  | "clog"
  | "heal"
  | "down"
  | "up";

/**
 * One line of the network's story. Packet events carry the packet id and
 * link; `detail` says the copy ("original", "duplicate", "replay"), the drop
 * reason, the payload's description, or the sides of a partition.
 */
export interface NetworkTraceEvent {
  readonly timeMs: number;
  readonly kind: NetworkTraceKind;
  readonly packetId?: number;
  readonly from?: string;
  readonly to?: string;
  readonly detail?: string;
}

/** A trace event as one readable line: `1250 ms deliver #17 a → b replay`. */
export function formatTraceEvent(event: NetworkTraceEvent): string {
  const parts = [`${event.timeMs} ms`, event.kind];
  if (event.packetId !== undefined) {
    parts.push(`#${event.packetId}`);
  }
  if (event.from !== undefined && event.to !== undefined) {
    parts.push(`${event.from} → ${event.to}`);
  } else if (event.from !== undefined) {
    parts.push(event.from);
  }
  if (event.detail !== undefined) {
    parts.push(event.detail);
  }
  return parts.join(" ");
}

/**
 * Keeps the most recent trace events (a ring of `capacity`) and a fingerprint
 * of all of them. Two runs with the same seed must end with the same
 * fingerprint; comparing fingerprints checks a replay without storing whole
 * traces. The fingerprint is two 32-bit FNV-1a-style hashes with different
 * offsets, so it is cheap and identical on every machine. Each text (a kind,
 * an endpoint, a payload's description) enters as one word, its own 32-bit
 * hash, remembered per distinct text: the same few texts recur in every
 * event, and hashing them character by character was most of the cost.
 */
export class NetworkTrace {
  private readonly ring: NetworkTraceEvent[] = [];
  private nextSlot = 0;
  private recorded = 0;
  private hashLow = 0x811c9dc5;
  private hashHigh = 0x01000193 ^ 0x9e3779b9;
  private readonly textWords = new Map<string, number>();

  constructor(private readonly capacity: number) {
    ensure(
      Number.isSafeInteger(capacity) && capacity >= 0 && capacity <= networkTraceEventsMax,
      `trace capacity must be an integer in [0, ${networkTraceEventsMax}], got ${capacity}`,
    );
  }

  record(event: NetworkTraceEvent): void {
    this.absorb(
      event.timeMs,
      event.kind,
      event.packetId ?? -1,
      event.from ?? "",
      event.to ?? "",
      event.detail ?? "",
    );
    this.keep(event);
  }

  /** Whether events are kept (else only the fingerprint takes them in). */
  get keeping(): boolean {
    return this.capacity > 0;
  }

  /**
   * `record` for a packet event, with the same fingerprint; the event object
   * is only built when it is kept (most simulators keep none while running
   * many seeds, and this runs several times per packet).
   */
  recordPacket(
    timeMs: number,
    kind: NetworkTraceKind,
    packetId: number,
    from: string,
    to: string,
    detail: string | undefined,
  ): void {
    this.absorb(timeMs, kind, packetId, from, to, detail ?? "");
    if (this.capacity > 0) {
      this.keep({ timeMs, kind, packetId, from, to, ...(detail === undefined ? {} : { detail }) });
    }
  }

  /**
   * `recordPacket` with the detail standing in the fingerprint as a number
   * (`detailWord`), so that a detail text that would be built afresh for
   * every packet is only built when kept (`detail`, ignored otherwise).
   */
  recordPacketWithWord(
    timeMs: number,
    kind: NetworkTraceKind,
    packetId: number,
    from: string,
    to: string,
    detailWord: number,
    detail: string | undefined,
  ): void {
    this.absorbEvent(timeMs, kind, packetId, from, to);
    this.absorbNumber(detailWord);
    if (this.capacity > 0) {
      this.keep({ timeMs, kind, packetId, from, to, ...(detail === undefined ? {} : { detail }) });
    }
  }

  private absorb(
    timeMs: number,
    kind: string,
    packetId: number,
    from: string,
    to: string,
    detail: string,
  ): void {
    this.absorbEvent(timeMs, kind, packetId, from, to);
    this.absorbText(detail);
  }

  private absorbEvent(timeMs: number, kind: string, packetId: number, from: string, to: string) {
    this.recorded += 1;
    this.absorbNumber(timeMs);
    this.absorbText(kind);
    this.absorbNumber(packetId);
    this.absorbText(from);
    this.absorbText(to);
  }

  private keep(event: NetworkTraceEvent): void {
    if (this.capacity === 0) {
      return;
    }
    if (this.ring.length < this.capacity) {
      this.ring.push(event);
    } else {
      this.ring[this.nextSlot] = event;
    }
    this.nextSlot = (this.nextSlot + 1) % this.capacity;
  }

  /** The kept events, oldest first. */
  events(): NetworkTraceEvent[] {
    if (this.ring.length < this.capacity) {
      return [...this.ring];
    }
    return [...this.ring.slice(this.nextSlot), ...this.ring.slice(0, this.nextSlot)];
  }

  /** Events recorded since creation, including those no longer kept. */
  get recordedCount(): number {
    return this.recorded;
  }

  /** 16 hex digits summarising every event ever recorded, in order. */
  fingerprint(): string {
    const hex = (word: number): string => (word >>> 0).toString(16).padStart(8, "0");
    return `${hex(this.hashHigh)}${hex(this.hashLow)}`;
  }

  private absorbNumber(value: number): void {
    // Simulation numbers are safe integers; fold the high half in as well.
    this.absorbWord(value >>> 0);
    this.absorbWord(Math.floor(value / 2 ** 32) >>> 0);
  }

  private absorbText(text: string): void {
    let word = this.textWords.get(text);
    if (word === undefined) {
      word = hashText(text);
      if (this.textWords.size < traceTextsRemembered) {
        this.textWords.set(text, word);
      }
    }
    this.absorbWord(word);
  }

  private absorbWord(word: number): void {
    this.hashLow = Math.imul(this.hashLow ^ word, 0x01000193);
    this.hashHigh = Math.imul(this.hashHigh ^ word ^ (this.hashLow >>> 15), 0x01000193);
  }
}

/**
 * Distinct texts whose hashes a trace remembers; past this, new texts are
 * hashed each time (a run with unbounded distinct texts stays bounded in memory).
 */
const traceTextsRemembered = 10_000;

/** 32-bit FNV-1a over the length and the UTF-16 code units of `text`. */
function hashText(text: string): number {
  let hash = Math.imul(0x811c9dc5 ^ text.length, 0x01000193);
  for (let index = 0; index < text.length; index += 1) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  }
  return hash >>> 0;
}
