// The homeserver serves its own verified key document at the well-known path,
// and a peer directory accepts it for the server's name.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { parseServerName } from "@parley/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PeerDirectory } from "../../src/federation/discovery/peer-directory.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { startHomeserver } from "../../src/process/homeserver.ts";
import { provider } from "./link-endpoint.ts";

const logger = createLogger(
  "silent",
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  }),
);

let directory = "";

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "parley-well-known-"));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe("the well-known key document", () => {
  it("is the server's signed document, verifiable for its name", async () => {
    const server = await startHomeserver(
      {
        serverName: null,
        dataDirectory: join(directory, "data"),
        listen: { host: "127.0.0.1", port: 0 },
        storage: { kind: "sqlite", path: ":memory:" },
        logLevel: "silent",
        inboxRetention: { maxAgeMs: 1000, maxEvents: 10 },
        deviceQueueItems: 10,
        registration: { mode: "open" },
        rateLimits: {
          deviceRequestsPerSecond: 50,
          addressRequestsPerSecond: 200,
          authenticationAttemptsPerMinute: 30,
        },
        federation: { enabled: true, tickIntervalMs: 100 },
      },
      { logger, nowMs: () => Date.now() },
    );
    try {
      const response = await fetch(`${server.url}/.well-known/parley/server`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/cbor");
      const bytes = new Uint8Array(await response.arrayBuffer());
      const name = parseServerName(server.serverName);
      // The directory fetches by name; here the name's host is localhost, so
      // the fetch is pointed at the bound address instead.
      const directory = new PeerDirectory({
        provider,
        nowMs: () => Date.now(),
        fetchDocument: async () => bytes,
      });
      const document = await directory.lookup(name);
      expect(document.server).toBe(name);
      expect(document.federationEndpoint).toBe(`http://${name}/_parley/federation/v1`);
      expect(document.keys.map((key) => key.publicKey)).toContainEqual(server.signer.publicKey);
    } finally {
      await server.close();
    }
  });
});
