import { encodeHex } from "../../src/codec/bytes.ts";
import type { SignatureProvider } from "../../src/crypto/signature-provider.ts";
import { contentIdOf } from "../../src/identifiers/content-id.ts";
import { deviceIdFromPublicKey } from "../../src/identifiers/device-id.ts";
import { roomIdFromBytes } from "../../src/identifiers/room-id.ts";
import { keyPairOf } from "../fixtures.ts";

interface Refused {
  readonly text: string;
  readonly error: string;
  readonly why: string;
}

const serverNamesValid = [
  "example.org",
  "localhost",
  "localhost:7001",
  "chat.example.org:8448",
  "xn--bcher-kva.example",
  "123.example.com",
  "127.0.0.1",
  "[::1]",
  "[2001:db8::1]:7001",
];

const serverNamesRefused: readonly Omit<Refused, "error">[] = [
  { text: "Example.org", why: "upper case" },
  { text: "example.org.", why: "trailing dot" },
  { text: "b\u00fccher.example", why: "U-label; use the A-label xn--bcher-kva.example" },
  { text: "ab--cd.example", why: '"--" in positions 3-4 outside an A-label' },
  { text: "exa_mple.org", why: "underscore" },
  { text: "-example.org", why: "leading hyphen" },
  { text: "1.2.3", why: "last label numeric: URL parsers read an IPv4 address" },
  { text: "0x7f", why: "last label hexadecimal: URL parsers read an IPv4 address" },
  { text: "01.2.3.4", why: "leading zero in an IPv4 octet" },
  { text: "example.org:0", why: "port 0" },
  { text: "example.org:080", why: "port with a leading zero" },
  { text: "example.org:65536", why: "port above 65535" },
  { text: "::1", why: "IPv6 without brackets" },
  { text: "[0:0:0:0:0:0:0:1]", why: "IPv6 not in RFC 5952 form ([::1])" },
  { text: "[::ffff:192.0.2.1]", why: "embedded dotted quad (RFC 5952 form is [::ffff:c000:201])" },
  { text: `${"a".repeat(64)}.org`, why: "label longer than 63" },
];

const userIdsValid = ["alice@example.org", "bob.smith_2-x@localhost:7001", "0@[::1]"];

const userIdsRefused: readonly Omit<Refused, "error">[] = [
  { text: "alice", why: "no @" },
  { text: "Alice@example.org", why: "upper case" },
  { text: ".alice@example.org", why: "starts with a dot" },
  { text: "al+ice@example.org", why: "+ is not allowed" },
  { text: "alice@Example.org", why: "server name not canonical" },
  { text: `${"a".repeat(65)}@example.org`, why: "local part longer than 64" },
];

export function identifierVectors(provider: SignatureProvider) {
  const deviceKey = keyPairOf(provider, "identifier vectors device").publicKey;
  const roomBytes = Uint8Array.from({ length: 16 }, (_, index) => index * 17);
  const content = new TextEncoder().encode("parley");
  return {
    description:
      "Identifiers (docs/protocol.md §2). Valid ones must parse unchanged; refused ones fail with `error`.",
    serverNames: {
      valid: serverNamesValid,
      refused: serverNamesRefused.map(
        (vector): Refused => ({ ...vector, error: "bad_server_name" }),
      ),
    },
    userIds: {
      valid: userIdsValid,
      refused: userIdsRefused.map((vector): Refused => ({ ...vector, error: "bad_user_id" })),
    },
    deviceIds: {
      valid: [{ publicKey: encodeHex(deviceKey), deviceId: deviceIdFromPublicKey(deviceKey) }],
      refused: [
        {
          text: "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
          error: "bad_device_id",
          why: "the identity point: a small-order key",
        },
        {
          text: deviceIdFromPublicKey(deviceKey).slice(0, 42),
          error: "bad_device_id",
          why: "42 characters",
        },
      ],
    },
    roomIds: {
      valid: [{ bytes: encodeHex(roomBytes), roomId: roomIdFromBytes(roomBytes) }],
      refused: [
        {
          text: "!ABEiM0RVZneImaq7zN3u_x",
          error: "bad_room_id",
          why: "the last character's spare bits are not zero",
        },
      ],
    },
    contentIds: {
      valid: [
        {
          type: "device-record",
          contentHex: encodeHex(content),
          contentId: contentIdOf("device-record", content),
        },
      ],
      refused: [
        {
          text: "Device-record:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
          error: "bad_content_id",
          why: "upper-case type",
        },
      ],
    },
  };
}
