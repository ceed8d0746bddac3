// What the chat view keeps of each sent message's delivery truth (§10.14):
// its status, the counts in words once the server reports them, and why a
// failed send failed. Pure, so the wording is tested without a browser.

import type { DeliveryEvent, DeliveryState } from "@parley/client";
import { describeError } from "../errors/error-messages.ts";
import type { ChatState } from "./chat-state.ts";

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "2 of 3 servers have it · 1 of 4 devices received it", or undefined before any report. */
export function describeDeliveryCounts(state: DeliveryState): string | undefined {
  if (state.status !== "accepted" && state.status !== "delivered") return undefined;
  const progress = state.progress;
  if (progress === undefined) return undefined;
  const { servers, devices } = progress;
  const parts = [
    `${servers.delivered} of ${plural(servers.total, "server has", "servers have")} it`,
  ];
  if (devices.total > 0) {
    parts.push(`${devices.delivered} of ${plural(devices.total, "device", "devices")} received it`);
  }
  for (const refusal of progress.refusedBy)
    parts.push(`refused by ${refusal.server} (${refusal.code})`);
  return parts.join(" · ");
}

/** The chat state after a delivery event. */
export function withDelivery(state: ChatState, event: DeliveryEvent): ChatState {
  const errors = { ...state.deliveryErrors };
  if (event.state.status === "failed")
    errors[event.clientId] = describeError(event.state.error, "send");
  else delete errors[event.clientId];
  const counts = { ...state.deliveryCounts };
  const described = describeDeliveryCounts(event.state);
  if (described === undefined) delete counts[event.clientId];
  else counts[event.clientId] = described;
  return {
    ...state,
    deliveries: { ...state.deliveries, [event.clientId]: event.state.status },
    deliveryErrors: errors,
    deliveryCounts: counts,
  };
}
