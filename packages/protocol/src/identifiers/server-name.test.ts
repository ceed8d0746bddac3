import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { formatIpv6, parseIpv6 } from "./ip-address.ts";
import {
  isLoopbackServerName,
  isServerName,
  parseServerName,
  serverNameFromUserInput,
  serverNameParts,
} from "./server-name.ts";

describe("server names", () => {
  test.each([
    ["example.org", "dns", undefined],
    ["localhost", "dns", undefined],
    ["localhost:7001", "dns", 7001],
    ["chat.example.org:8448", "dns", 8448],
    ["xn--bcher-kva.example", "dns", undefined],
    ["a-b.c0", "dns", undefined],
    ["1password.com", "dns", undefined],
    ["123.example.com", "dns", undefined],
    ["0xzz", "dns", undefined],
    ["127.0.0.1", "ipv4", undefined],
    ["192.0.2.1:65535", "ipv4", 65535],
    ["[::1]", "ipv6", undefined],
    ["[2001:db8::1]:7001", "ipv6", 7001],
    ["[::]", "ipv6", undefined],
    ["[1:0:0:2::3]", "ipv6", undefined],
    [`${"a".repeat(63)}.org`, "dns", undefined],
  ])("%s is valid (%s, port %s)", (text, hostKind, port) => {
    expect(parseServerName(text)).toBe(text);
    const parts = serverNameParts(text);
    expect(parts.hostKind).toBe(hostKind);
    expect(parts.port).toBe(port);
  });

  test.each([
    ["", "empty"],
    ["Example.org", "upper case is not canonical"],
    ["example.org.", "trailing dot"],
    [".example.org", "empty label"],
    ["exa mple.org", "space"],
    ["exa_mple.org", "underscore"],
    ["-example.org", "leading hyphen"],
    ["example-.org", "trailing hyphen"],
    ["b\u00fccher.example", "Unicode (U-label) instead of an A-label"],
    ["ab--cd.example", "R-LDH label that is not an A-label"],
    ["xn--.example", "xn-- with nothing after it"],
    ["example.123", "numeric last label"],
    ["1.2.3", "reads as a short IPv4 address"],
    ["0x7f", "reads as a hexadecimal IPv4 address"],
    ["example.0x1f", "last label reads as a hexadecimal number"],
    ["01.2.3.4", "IPv4 with a leading zero"],
    ["256.1.1.1", "IPv4 octet above 255"],
    ["example.org:0", "port 0"],
    ["example.org:65536", "port above 65535"],
    ["example.org:080", "port with a leading zero"],
    ["example.org:", "empty port"],
    ["example.org:80:80", "two ports"],
    ["::1", "unbracketed IPv6"],
    ["[::1", "unclosed bracket"],
    ["[::1]x", "junk after the literal"],
    ["[0:0:0:0:0:0:0:1]", "IPv6 not in RFC 5952 form"],
    ["[2001:DB8::1]", "upper-case IPv6"],
    ["[::ffff:192.0.2.1]", "embedded dotted quad"],
    ["[fe80::1%25eth0]", "zone id"],
    ["[1::2::3]", "two ::"],
    ["user@example.org", "user info"],
    [`${"a".repeat(64)}.org`, "label longer than 63"],
    [`${"abcdefghi.".repeat(25)}abcd`, "host longer than 253"],
  ])("%s is refused (%s)", (text) => {
    expect(() => parseServerName(text)).toThrow(
      expect.objectContaining({ code: "bad_server_name" }),
    );
    expect(isServerName(text)).toBe(false);
  });

  test("loopback names are localhost, 127.0.0.0/8 and [::1]", () => {
    for (const name of ["localhost", "localhost:7001", "127.0.0.1", "127.8.9.10:1", "[::1]:2"]) {
      expect(isLoopbackServerName(parseServerName(name)), name).toBe(true);
    }
    for (const name of ["example.org", "localhost.example.org", "128.0.0.1", "[::2]"]) {
      expect(isLoopbackServerName(parseServerName(name)), name).toBe(false);
    }
  });

  test.each([
    ["Example.ORG", "example.org"],
    ["  example.org.  ", "example.org"],
    ["b\u00fccher.example", "xn--bcher-kva.example"],
    ["LOCALHOST:7001", "localhost:7001"],
    ["::1", "[::1]"],
    ["[0:0:0:0:0:0:0:1]:80", "[::1]:80"],
    ["example.org:443", "example.org:443"],
  ])("user input %j becomes %s", (input, expected) => {
    expect(serverNameFromUserInput(input)).toBe(expected);
  });

  test.each([["alice@evil.example"], ["example.org/path"], ["ex%61mple.org"], [""], ["a b"]])(
    "user input %j is refused",
    (input) => {
      expect(() => serverNameFromUserInput(input)).toThrow(
        expect.objectContaining({ code: "bad_server_name" }),
      );
    },
  );
});

describe("IPv6 literals", () => {
  // Groups biased towards zero, so runs of zeros (the interesting case for "::") are common.
  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  const groups = fc.array(group, { minLength: 8, maxLength: 8 });

  test("our RFC 5952 text equals what the WHATWG URL parser serialises", () => {
    fc.assert(
      fc.property(groups, (eight) => {
        const longForm = eight.map((value) => value.toString(16)).join(":");
        const whatwg = new URL(`http://[${longForm}]/`).hostname.slice(1, -1);
        expect(formatIpv6(eight)).toBe(whatwg);
        expect(parseIpv6(formatIpv6(eight))).toEqual(eight);
        expect(parseIpv6(longForm)).toEqual(eight);
      }),
      { numRuns: 3000 },
    );
  });

  test("a canonical literal always makes a valid server name", () => {
    fc.assert(
      fc.property(groups, fc.option(fc.integer({ min: 1, max: 65535 })), (eight, port) => {
        const name = `[${formatIpv6(eight)}]${port === null ? "" : `:${port}`}`;
        expect(isServerName(name)).toBe(true);
      }),
    );
  });

  test("parses the RFC 4291 forms", () => {
    expect(parseIpv6("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6("1::")).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6("::ffff:192.0.2.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIpv6("1:2:3:4:5:6:7:8:9")).toBeUndefined();
    expect(parseIpv6("1:2:3:4:5:6:7::8")).toBeUndefined();
    expect(parseIpv6("12345::")).toBeUndefined();
    expect(parseIpv6("1.2.3.4::")).toBeUndefined();
  });

  test("shortens the longest run of zeros, the first one on a tie, never a single group", () => {
    expect(formatIpv6([1, 0, 0, 2, 0, 0, 0, 3])).toBe("1:0:0:2::3");
    expect(formatIpv6([1, 0, 0, 2, 0, 0, 3, 4])).toBe("1::2:0:0:3:4");
    expect(formatIpv6([1, 0, 2, 3, 4, 5, 6, 7])).toBe("1:0:2:3:4:5:6:7");
    expect(formatIpv6([0, 0, 0, 0, 0, 0, 0, 1])).toBe("::1");
  });
});
