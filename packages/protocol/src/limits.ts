/**
 * Every bound of the protocol package, with why it has the value it has.
 * The spec (docs/protocol.md) repeats the ones a peer must also respect.
 */

/** Limits applied while decoding one CBOR item. */
export interface DecodeLimits {
  /** Size of the whole input. */
  readonly totalBytesMax: number;
  /** Containers (arrays and maps) nested in each other; the top-level container is depth 1. */
  readonly depthMax: number;
  /** Items in one array, or entries (key-value pairs) in one map. */
  readonly containerItemsMax: number;
  /** Bytes in one text string or byte string. */
  readonly stringBytesMax: number;
}

/**
 * No caller may ask for deeper nesting than this. The decoder recurses once per
 * level; 64 levels is far below any JavaScript stack and far above any Parley
 * object (the deepest today is 4).
 */
export const decodeDepthHardMax = 64;

/**
 * Defaults for decoding something whose kind is not known yet. One MiB covers
 * every control-lane object; larger payloads (files, history packs) travel in
 * chunks with their own limits.
 */
export const defaultDecodeLimits: DecodeLimits = {
  totalBytesMax: 1024 * 1024,
  depthMax: 16,
  containerItemsMax: 4096,
  stringBytesMax: 1024 * 1024,
};

/**
 * Encoding walks the value with the same depth bound, so a cyclic or absurdly
 * deep value from a buggy caller fails cleanly instead of overflowing the stack.
 */
export const encodeDepthMax = decodeDepthHardMax;

/** RFC 1035 §2.3.4: a DNS label is at most 63 octets. */
export const hostLabelBytesMax = 63;

/** RFC 1035 §2.3.4: a host name in text form (no trailing dot) is at most 253 octets. */
export const hostNameBytesMax = 253;

/** A whole server name: a 253-byte host, or a bracketed IPv6 literal, plus ":65535". */
export const serverNameBytesMax = hostNameBytesMax + ":65535".length;

/**
 * The local part of a user id. 64 matches the local part of an e-mail address
 * (RFC 5321 §4.5.3.1.1) and keeps ids readable in IRC and in a terminal.
 */
export const userLocalPartBytesMax = 64;

/** A content id's type prefix: short, since it is repeated in every id. */
export const contentTypeBytesMax = 32;

/**
 * Devices one user may link. Every device is its own MLS member, so each one
 * makes every room of the user bigger; 32 devices keep a device record under
 * 2 KiB and the user's share of an MLS tree small.
 */
export const devicesPerUserMax = 32;

/** A record lists the user's other devices, so one fewer than the user may have. */
export const linkedDevicesMax = devicesPerUserMax - 1;

/**
 * The longest validity window of a device identity record: 366 days. It bounds
 * how long a leaked server key can mint records that still look current (a
 * record must be attested inside its own window), and devices online at least
 * once a year refresh their record without noticing.
 */
export const deviceRecordValidityMaxMs = 366 * 24 * 60 * 60 * 1000;

/**
 * How far ahead of the verifier's clock a signer's timestamp may be. Clocks of
 * phones and servers drift by seconds to minutes; five minutes is the usual
 * tolerance (Kerberos uses the same) and short enough to keep time checks meaningful.
 */
export const clockSkewToleranceMs = 5 * 60 * 1000;

/** An encoded device identity record: 31 linked keys (34 bytes each) plus fields is about 1.5 KiB. */
export const deviceRecordBytesMax = 4096;

/** An encoded revocation is a handful of fixed-size fields (about 250 bytes). */
export const deviceRevocationBytesMax = 1024;

/**
 * Keys one server key document may list, current and past together. A server
 * rotating yearly keeps sixteen years of history; older keys can be dropped
 * since records signed by them have long expired.
 */
export const serverKeysMax = 16;

/** A federation endpoint URL: generous for a host plus a path, short enough to log. */
export const federationEndpointBytesMax = 512;

/** An encoded server key document: 16 keys and 16 signatures are about 3 KiB. */
export const serverKeyDocumentBytesMax = 8192;

/** Decode limits for device identity records and revocations: shallow, small, few items. */
export const deviceRecordDecodeLimits: DecodeLimits = {
  totalBytesMax: deviceRecordBytesMax,
  depthMax: 4,
  containerItemsMax: linkedDevicesMax,
  stringBytesMax: serverNameBytesMax + userLocalPartBytesMax + 1,
};

/** Decode limits for server key documents. */
export const serverKeyDocumentDecodeLimits: DecodeLimits = {
  totalBytesMax: serverKeyDocumentBytesMax,
  depthMax: 4,
  containerItemsMax: serverKeysMax,
  stringBytesMax: federationEndpointBytesMax,
};

/**
 * Entries in a VerifiedSignatureCache. Each entry is a 64-character key and a
 * 32-byte public key (about 200 bytes with overhead), so the default costs
 * about 3 MiB and covers the active devices of a large server.
 */
export const verifiedSignatureCacheEntriesDefault = 16_384;

/**
 * Devices an in-memory DeviceRegistry holds by default. It bounds memory (about
 * 2 KiB per device); a server with more devices keeps its registry in storage.
 */
export const deviceRegistryDevicesDefault = 100_000;
