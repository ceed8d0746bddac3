/**
 * The byte-level reader and writer under codec.ts: unsigned LEB128 varints
 * for every number, length-prefixed UTF-8 strings and byte strings, single
 * bytes for tags and booleans, and 4-byte big-endian frame lengths.
 */
import { type NodeId, nodeId } from "@parley/raft";

/** A growable output buffer; `finish()` returns the bytes written so far. */
export class Writer {
  private buffer: Buffer;
  private length = 0;

  constructor(capacity = 256) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  /** Unsigned LEB128 of a safe non-negative integer. */
  varint(value: number): void {
    this.reserve(8);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
  }

  bytes(value: Uint8Array): void {
    this.varint(value.byteLength);
    this.reserve(value.byteLength);
    this.buffer.set(value, this.length);
    this.length += value.byteLength;
  }

  string(value: string): void {
    const byteLength = Buffer.byteLength(value);
    this.varint(byteLength);
    this.reserve(byteLength);
    this.length += this.buffer.write(value, this.length);
  }

  /** Reserves a 4-byte big-endian length to fill in with `endFrame`. */
  beginFrame(): number {
    this.reserve(4);
    const at = this.length;
    this.length += 4;
    return at;
  }

  endFrame(at: number): void {
    this.buffer.writeUInt32BE(this.length - at - 4, at);
  }

  get size(): number {
    return this.length;
  }

  finish(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

export class Reader {
  private offset = 0;

  constructor(private readonly buffer: Buffer) {}

  get done(): boolean {
    return this.offset >= this.buffer.length;
  }

  byte(): number {
    const value = this.buffer[this.offset++];
    if (value === undefined) throw new Error("truncated input");
    return value;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let shift = 0; shift < 8; shift++) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw new Error("varint too long");
  }

  bytes(): Uint8Array {
    const length = this.varint();
    if (this.offset + length > this.buffer.length) throw new Error("truncated input");
    // A plain Uint8Array copy, so a message never pins the whole receive buffer.
    const value = new Uint8Array(this.buffer.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
  }

  string(): string {
    const length = this.varint();
    if (this.offset + length > this.buffer.length) throw new Error("truncated input");
    const value = this.buffer.toString("utf8", this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  nodeId(): NodeId {
    return nodeId(this.string());
  }

  boolean(): boolean {
    return this.byte() !== 0;
  }
}
