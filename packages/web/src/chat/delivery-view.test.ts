import type { DeliveryEvent } from "@parley/client";
import { ParleyError, type RoomId } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { initialChatState } from "./chat-state.ts";
import { describeDeliveryCounts, withDelivery } from "./delivery-view.ts";

const roomId = "!AAAAAAAAAAAAAAAAAAAAAA" as RoomId;
const acceptance = { sequence: 3, streamPosition: 9, acceptedAtMs: 1_000, controlIndex: 2 };

function event(state: DeliveryEvent["state"]): DeliveryEvent {
  return { type: "delivery", roomId, clientId: "m1", state };
}

describe("delivery in the chat view", () => {
  it("words the server's counts, leaving out devices when there are none", () => {
    expect(
      describeDeliveryCounts({
        status: "delivered",
        deliveredAtMs: 2_000,
        ...acceptance,
        progress: {
          servers: { delivered: 2, total: 2 },
          devices: { delivered: 1, total: 3 },
          refusedBy: [{ server: "c.test", code: "banned" }],
        },
      }),
    ).toBe("2 of 2 servers have it · 1 of 3 devices received it · refused by c.test (banned)");
    expect(
      describeDeliveryCounts({
        status: "accepted",
        ...acceptance,
        progress: {
          servers: { delivered: 1, total: 1 },
          devices: { delivered: 0, total: 0 },
          refusedBy: [],
        },
      }),
    ).toBe("1 of 1 server has it");
    expect(describeDeliveryCounts({ status: "accepted", ...acceptance })).toBeUndefined();
    expect(describeDeliveryCounts({ status: "pending", attempts: 1 })).toBeUndefined();
  });

  it("keeps the status, the counts and a failure's words, and clears them as the state moves", () => {
    let state = initialChatState("alice@a.test");
    const error = new ParleyError("forbidden", "not a member");
    state = withDelivery(state, event({ status: "failed", error, attempts: 1 }));
    expect(state.deliveries).toEqual({ m1: "failed" });
    expect(Object.keys(state.deliveryErrors)).toEqual(["m1"]);
    state = withDelivery(state, event({ status: "pending", attempts: 1 }));
    expect(state.deliveryErrors).toEqual({});
    state = withDelivery(
      state,
      event({
        status: "accepted",
        ...acceptance,
        progress: {
          servers: { delivered: 1, total: 2 },
          devices: { delivered: 0, total: 1 },
          refusedBy: [],
        },
      }),
    );
    expect(state.deliveries).toEqual({ m1: "accepted" });
    expect(state.deliveryCounts).toEqual({
      m1: "1 of 2 servers have it · 0 of 1 device received it",
    });
  });
});
