// The shared link contract against the in-process network.

import { parseServerName } from "@parley/protocol";
import { InProcessNetwork } from "../../src/federation/links/in-process-links.ts";
import { RecordingHandlers } from "./recording-handlers.ts";
import { type ContractServer, describeTransportContract } from "./transport-contract.ts";

const queueFramesMax = 64;

describeTransportContract("in-process network", {
  queueFramesMax,
  async createHarness() {
    const network = new InProcessNetwork({ queueFramesMax });
    const running = new Set<ContractServer>();
    return {
      async start(label, handlers = new RecordingHandlers()) {
        const name = parseServerName(`${label}.test`);
        const server = { name, links: network.join(name, handlers), handlers };
        running.add(server);
        return server;
      },
      async stop(server) {
        running.delete(server);
        await server.links.close();
      },
      async close() {
        for (const server of running) await server.links.close();
        running.clear();
      },
    };
  },
});
