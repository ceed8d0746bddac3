import type { ServerName, VerifiedServerKeyDocument } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import {
  parsePeerAddresses,
  redirectedUrl,
  redirectingFetcher,
  redirectingPeerKeys,
} from "./peer-addresses.ts";
import type { PeerKeys } from "./peer-directory.ts";

const addresses = parsePeerAddresses("b.example:8448=127.0.0.1:4001\nc.example=[::1]:4002");

describe("peer addresses", () => {
  it("redirects only the URLs of mapped servers, keeping scheme and path", () => {
    expect(redirectedUrl("https://b.example:8448/.well-known/parley/server", addresses)).toBe(
      "https://127.0.0.1:4001/.well-known/parley/server",
    );
    expect(redirectedUrl("wss://c.example/_parley/federation/v1", addresses)).toBe(
      "wss://[::1]:4002/_parley/federation/v1",
    );
    // b.example without the port is another server name.
    expect(redirectedUrl("https://b.example/x", addresses)).toBe("https://b.example/x");
  });

  it("fetches documents and dials links at the mapped address, nothing else changed", async () => {
    const fetched: string[] = [];
    const fetcher = redirectingFetcher(async (url) => {
      fetched.push(url);
      return new Uint8Array([1]);
    }, addresses);
    await fetcher("https://b.example:8448/.well-known/parley/server");
    expect(fetched).toEqual(["https://127.0.0.1:4001/.well-known/parley/server"]);

    const document = {
      server: "b.example:8448",
      federationEndpoint: "https://b.example:8448/_parley/federation/v1",
    } as unknown as VerifiedServerKeyDocument;
    const keys: PeerKeys = {
      lookup: async () => document,
      refresh: async () => document,
    };
    const redirected = redirectingPeerKeys(keys, addresses);
    for (const found of [
      await redirected.lookup("b.example:8448" as ServerName),
      await redirected.refresh("b.example:8448" as ServerName),
    ]) {
      expect(found.federationEndpoint).toBe("https://127.0.0.1:4001/_parley/federation/v1");
      expect(found.server).toBe("b.example:8448");
    }
  });

  it("refuses entries without a port, or with names that are not canonical", () => {
    expect(() => parsePeerAddresses("b.example=127.0.0.1")).toThrow(/needs a port/);
    expect(() => parsePeerAddresses("b.example")).toThrow(/name=host:port/);
    expect(() => parsePeerAddresses("B.example=127.0.0.1:1")).toThrow();
    expect(parsePeerAddresses(" ").size).toBe(0);
  });
});
