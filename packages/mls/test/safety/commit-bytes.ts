/**
 * A reader of just enough of RFC 9420's wire format to find out whether an
 * encoded commit carries an update path, written without ts-mls so the
 * answer does not depend on the library under test (notes: ts-mls
 * 2.0.0-rc.10 made remove commits without a path).
 *
 *     MLSMessage   = version u16, wire_format u16 (1 = PublicMessage), PublicMessage
 *     FramedContent = group_id<V>, epoch u64, sender, authenticated_data<V>,
 *                     content_type u8 (3 = commit), Commit
 *     Sender       = sender_type u8 (1 member: leaf_index u32; 2 external: index u32;
 *                    3, 4: nothing)
 *     Commit       = proposals<V>, optional<UpdatePath> (presence byte 0 or 1)
 */
export function commitHasUpdatePath(bytes: Uint8Array): boolean {
  const reader = new Reader(bytes);
  if (reader.uint(2) !== 1) throw new Error("not MLS 1.0");
  if (reader.uint(2) !== 1) throw new Error("not a PublicMessage");
  reader.vector(); // group_id
  reader.skip(8); // epoch
  const senderType = reader.uint(1);
  if (senderType === 1 || senderType === 2) reader.skip(4);
  reader.vector(); // authenticated_data
  if (reader.uint(1) !== 3) throw new Error("not a commit");
  reader.vector(); // proposals
  const presence = reader.uint(1);
  if (presence > 1) throw new Error("bad optional");
  return presence === 1;
}

class Reader {
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  uint(length: number): number {
    let value = 0;
    for (let index = 0; index < length; index += 1) value = value * 256 + this.byte();
    return value;
  }

  skip(length: number): void {
    if (this.offset + length > this.bytes.length) throw new Error("truncated");
    this.offset += length;
  }

  /** RFC 9420 §2.1.2 variable-length vector: a 1, 2 or 4 byte length prefix, then the bytes. */
  vector(): void {
    const first = this.byte();
    const prefix = first >> 6;
    if (prefix === 3) throw new Error("invalid length prefix");
    let length = first & 0x3f;
    for (let index = 0; index < (1 << prefix) - 1; index += 1) length = length * 256 + this.byte();
    this.skip(length);
  }

  private byte(): number {
    const value = this.bytes[this.offset];
    if (value === undefined) throw new Error("truncated");
    this.offset += 1;
    return value;
  }
}
