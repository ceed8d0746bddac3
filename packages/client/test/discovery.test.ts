// The server name comes from the server itself when the caller does not give
// it: a homeserver named chat.test listening on 127.0.0.1 gets users
// @chat.test, not @localhost.

import { defaultServerName, discoverServerName, ParleyClient } from "@parley/client";
import { nodeClientOptions } from "@parley/client/node";
import { nodeSignatureProvider } from "@parley/protocol/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { password, startTestHomeserver, type TestHomeserver } from "./homeserver-fixture.ts";

let homeserver: TestHomeserver;

beforeAll(async () => {
  homeserver = await startTestHomeserver({ serverName: "chat.test" });
});

afterAll(async () => {
  await homeserver.close();
});

describe("server name discovery", () => {
  it("reads the name from the server's verified key document", async () => {
    const options = { provider: nodeSignatureProvider, nowMs: Date.now() };
    expect(await discoverServerName(homeserver.url, options)).toBe("chat.test");
    expect(defaultServerName(homeserver.url)).toMatch(/^localhost:\d+$/);
    expect(await discoverServerName("http://127.0.0.1:9", options)).toBeUndefined();
  });

  it("registers and logs in as user@chat.test without being told the name", async () => {
    const client = await ParleyClient.register(
      { baseUrl: homeserver.url, userName: "dora", password },
      nodeClientOptions(),
    );
    expect(client.userId).toBe("dora@chat.test");
    expect(client.serverName).toBe("chat.test");
    const again = await ParleyClient.login(
      { baseUrl: homeserver.url, userName: "dora", password },
      nodeClientOptions(),
    );
    expect(again.userId).toBe("dora@chat.test");
  });
});
