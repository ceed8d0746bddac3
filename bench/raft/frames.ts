/**
 * Splits a TCP byte stream into the length-prefixed frames of codec.ts (a
 * 4-byte big-endian length, then that many bytes). Chunks arrive cut
 * anywhere, so a partial frame waits for the next chunk.
 */

/** A bound on one frame, so a corrupt length cannot make us buffer forever. */
export const FRAME_BYTES_MAX = 64 * 1024 * 1024;

export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds a chunk and returns the frames it completed, in order. */
  push(chunk: Buffer): Buffer[] {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Buffer[] = [];
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = data.readUInt32BE(offset);
      if (length > FRAME_BYTES_MAX) throw new Error(`frame of ${length} bytes is too large`);
      if (data.length - offset - 4 < length) break;
      frames.push(data.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    this.pending = offset === data.length ? Buffer.alloc(0) : data.subarray(offset);
    return frames;
  }
}
