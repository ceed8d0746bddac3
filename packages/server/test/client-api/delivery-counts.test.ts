// Delivery truth on the sender's server (docs/protocol.md §10.14) against a
// homeserver child process: the sender's sockets get `delivery` items whose
// device counts follow the receivers' acknowledgements, never ahead of them,
// and a reconnecting sender gets the counts it missed after `ready`.

import { newDevice, ParleyClient, StreamClient } from "@parley/cli/client";
import type { DeliveryItemJson } from "@parley/protocol";
import { HomeserverProcess } from "@parley/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let server: HomeserverProcess;
const password = "correct horse battery staple";

beforeAll(async () => {
  server = await HomeserverProcess.start();
});

afterAll(async () => {
  await server.dispose();
});

function client(): ParleyClient {
  return new ParleyClient({
    baseUrl: server.url,
    serverName: server.serverName,
    device: newDevice(),
  });
}

function latest(stream: StreamClient, position: number): DeliveryItemJson | undefined {
  return stream.deliveries.filter((item) => item.position === position).at(-1);
}

describe("delivery counts", () => {
  it("counts servers and the receivers' devices as they acknowledge, and repeats them after ready", async () => {
    const alice = client();
    await alice.register("alice", password);
    const bobPhone = client();
    await bobPhone.register("bob", password);
    const bobLaptop = client();
    await bobLaptop.login("bob", password);
    const { roomId } = await alice.createRoom({ clientId: "r", name: "r", joinRule: "open" });
    await bobPhone.act(roomId, { type: "join" });

    const aliceStream = await StreamClient.connect(server.url, alice.accessToken ?? "");
    // Bob's phone reads but does not acknowledge yet: nothing may count as delivered.
    const phoneStream = await StreamClient.connect(server.url, bobPhone.accessToken ?? "");
    const accepted = await aliceStream.sendMessage(
      roomId,
      alice.signMessage(roomId, "hello bob", { clientId: "m1" }),
    );
    const position = accepted.streamPosition;
    await phoneStream.waitFor(() => phoneStream.events.some((event) => event.clientId === "m1"));
    await aliceStream.waitFor(() => latest(aliceStream, position) !== undefined);
    expect(latest(aliceStream, position)).toEqual({
      roomId,
      position,
      servers: { delivered: 1, total: 1 },
      // Bob's two devices; Alice's only device is the sender and is left out.
      devices: { delivered: 0, total: 2 },
      refused: [],
    });

    phoneStream.acknowledge({ stream: phoneStream.through });
    await aliceStream.waitFor(() => latest(aliceStream, position)?.devices.delivered === 1);
    expect(latest(aliceStream, position)?.devices).toEqual({ delivered: 1, total: 2 });

    // The sender goes away; the laptop comes online and acknowledges meanwhile.
    await aliceStream.close();
    const laptopStream = await StreamClient.connect(server.url, bobLaptop.accessToken ?? "", {
      autoAcknowledge: true,
    });
    await laptopStream.waitFor(() => laptopStream.events.some((event) => event.clientId === "m1"));
    const aliceAgain = await StreamClient.connect(server.url, alice.accessToken ?? "");
    await aliceAgain.waitFor(() => latest(aliceAgain, position)?.devices.delivered === 2, 15_000);
    expect(latest(aliceAgain, position)).toMatchObject({
      servers: { delivered: 1, total: 1 },
      devices: { delivered: 2, total: 2 },
    });
    // Counts never went backwards on the way.
    const seen = [...aliceStream.deliveries, ...aliceAgain.deliveries].filter(
      (item) => item.position === position,
    );
    for (let index = 1; index < seen.length; index += 1) {
      expect(seen[index]?.devices.delivered).toBeGreaterThanOrEqual(
        seen[index - 1]?.devices.delivered ?? 0,
      );
    }
    // Bob's messages are his server's to report, to him alone.
    expect(aliceAgain.deliveries.every((item) => item.position === position)).toBe(true);
    await Promise.all([phoneStream.close(), laptopStream.close(), aliceAgain.close()]);
  });
});
