// Byte columns cross the driver boundary as Node Buffers. Callers get plain
// Uint8Arrays they own (a copy: pg may hand out slices of a shared pool), and
// give any Uint8Array, which is wrapped without copying for the driver.

export function toStoredBytes(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function fromStoredBytes(value: Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

export function fromStoredBytesOrNull(value: Uint8Array | null): Uint8Array | null {
  return value === null ? null : fromStoredBytes(value);
}
