// The shared link contract against the real LinkManager: two (or more)
// homeserver-like endpoints on 127.0.0.1 with SQLite files, WebSockets and
// the signed handshake.

import { LinkEndpoint } from "./link-endpoint.ts";
import { RecordingHandlers } from "./recording-handlers.ts";
import { type ContractServer, describeTransportContract } from "./transport-contract.ts";

const queueFramesMax = 64;

describeTransportContract("WebSocket links", {
  queueFramesMax,
  async createHarness() {
    const endpoints = new Map<string, LinkEndpoint>();
    return {
      async start(label, handlers = new RecordingHandlers()) {
        let endpoint = endpoints.get(label);
        if (endpoint === undefined) {
          endpoint = await LinkEndpoint.create(label);
          endpoints.set(label, endpoint);
        }
        await endpoint.start({ handlers, limits: { queueFramesMax } });
        const server: ContractServer = {
          name: endpoint.name,
          links: endpoint.requireLinks(),
          handlers,
        };
        return server;
      },
      async stop(server) {
        for (const endpoint of endpoints.values()) {
          if (endpoint.running && endpoint.name === server.name) await endpoint.stop();
        }
      },
      async close() {
        for (const endpoint of endpoints.values()) await endpoint.destroy();
        endpoints.clear();
      },
    };
  },
});
