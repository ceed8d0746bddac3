// A lean HTTP poster for the load generator: node:http with a keep-alive
// agent, a fraction of fetch's cost per request, so the generator's own CPU
// stays out of the figures as far as it can on a shared machine.

import { Agent, request } from "node:http";

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export function postJson(url: URL, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          authorization: `Bearer ${token}`,
        },
      },
      (response) => {
        response.resume();
        response.once("end", () => resolve(response.statusCode ?? 0));
        response.once("error", reject);
      },
    );
    outgoing.once("error", reject);
    outgoing.end(body);
  });
}

export function closePoster(): void {
  agent.destroy();
}
