/**
 * The loopback benchmark's durable log: one append-only file per node. Each
 * Ready that has something to persist becomes one record holding its
 * snapshot, entries and hard state; the record is written and, when the Ready
 * says `mustSync`, fdatasync'd before the Ready's messages are sent. One
 * fdatasync covers the whole batch of entries, however many there are.
 *
 * Record layout: a 4-byte big-endian payload length, the payload's CRC-32
 * (4 bytes, big-endian), then the payload: a flags byte (1 = hard state,
 * 2 = snapshot), the hard state and snapshot if flagged, then the entries
 * (codec.ts). Replaying applies the records in order to a MemoryStorage, which
 * already has the write semantics Raft needs (an entry replaces any stored
 * entry at its index or later); a torn record at the end (short, or with a
 * bad checksum) is where the log ends.
 *
 * The file is never compacted: a benchmark run writes tens of megabytes.
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  openSync,
  readFileSync,
  writeSync,
} from "node:fs";
import { crc32 } from "node:zlib";
import { type Entry, type HardState, MemoryStorage, type Snapshot } from "@parley/raft";
import { Reader, Writer } from "./binary.ts";
import {
  readEntries,
  readHardState,
  readSnapshot,
  writeEntries,
  writeHardState,
  writeSnapshot,
} from "./codec.ts";

const HEADER_BYTES = 8;
const HAS_HARD_STATE = 1;
const HAS_SNAPSHOT = 2;

export interface PersistedState {
  readonly hardState: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

export class DurableLog {
  private readonly fd: number;
  /** fdatasync calls so far, to report how well Readies batch. */
  syncCount = 0;
  /** Milliseconds spent in fdatasync so far. */
  syncMs = 0;
  bytesWritten = 0;

  private constructor(path: string) {
    this.fd = openSync(path, "a");
  }

  /**
   * Opens (creating if needed) the log at `path` and replays what it holds
   * into a fresh MemoryStorage, which then serves the core's reads.
   */
  static open(path: string): { log: DurableLog; storage: MemoryStorage } {
    const storage = new MemoryStorage();
    if (existsSync(path)) replay(readFileSync(path), storage);
    return { log: new DurableLog(path), storage };
  }

  /** Writes one record and, if `sync`, fdatasyncs it before returning. */
  write(state: PersistedState, sync: boolean): void {
    this.append(state);
    if (!sync) return;
    const start = performance.now();
    fdatasyncSync(this.fd);
    this.syncMs += performance.now() - start;
    this.syncCount++;
  }

  /**
   * Writes one record now and fdatasyncs it on libuv's thread pool, calling
   * `durable` once it is on disk: the event loop meanwhile goes on receiving
   * and stepping messages and taking proposals, which the next Ready batches.
   */
  writeOverlapped(state: PersistedState, durable: () => void): void {
    this.append(state);
    const start = performance.now();
    fdatasync(this.fd, (error) => {
      if (error !== null) throw error;
      this.syncMs += performance.now() - start;
      this.syncCount++;
      durable();
    });
  }

  /** Writes one record (to the page cache); nothing if there is nothing to persist. */
  private append(state: PersistedState): void {
    if (state.hardState === null && state.snapshot === null && state.entries.length === 0) return;
    const writer = new Writer(1024);
    writer.beginFrame();
    writer.beginFrame(); // room for the checksum
    let flags = 0;
    if (state.hardState !== null) flags |= HAS_HARD_STATE;
    if (state.snapshot !== null) flags |= HAS_SNAPSHOT;
    writer.byte(flags);
    if (state.hardState !== null) writeHardState(writer, state.hardState);
    if (state.snapshot !== null) writeSnapshot(writer, state.snapshot);
    writeEntries(writer, state.entries);
    const record = writer.finish();
    const payload = record.subarray(HEADER_BYTES);
    record.writeUInt32BE(payload.length, 0);
    record.writeUInt32BE(crc32(payload), 4);
    let written = 0;
    while (written < record.length) {
      written += writeSync(this.fd, record, written, record.length - written);
    }
    this.bytesWritten += record.length;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Applies every complete record of `data` to `storage`, in order. */
export function replay(data: Buffer, storage: MemoryStorage): number {
  let offset = 0;
  let records = 0;
  while (data.length - offset >= HEADER_BYTES) {
    const length = data.readUInt32BE(offset);
    const checksum = data.readUInt32BE(offset + 4);
    const end = offset + HEADER_BYTES + length;
    if (end > data.length) break;
    const payload = data.subarray(offset + HEADER_BYTES, end);
    if (crc32(payload) !== checksum) break;
    const reader = new Reader(payload);
    const flags = reader.byte();
    const hardState = (flags & HAS_HARD_STATE) !== 0 ? readHardState(reader) : null;
    const snapshot = (flags & HAS_SNAPSHOT) !== 0 ? readSnapshot(reader) : null;
    // The order a Ready is persisted in: snapshot, entries, hard state.
    if (snapshot !== null) storage.applySnapshot(snapshot);
    storage.append(readEntries(reader));
    if (hardState !== null) storage.setHardState(hardState);
    offset = end;
    records++;
  }
  return records;
}
