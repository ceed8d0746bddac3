// Prometheus metrics for the homeserver, in one registry per process (not
// prom-client's global one, so tests can build as many servers as they like).
// Label values come from small fixed sets (route patterns, error codes), never
// from user input, so the number of series stays bounded.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type ConnectionKind = "client" | "federation";

export interface HomeserverMetrics {
  readonly registry: Registry;
  /** Open connections (WebSocket clients, federation links). */
  readonly connectionsOpen: Gauge<"kind">;
  /** Connections accepted since start. */
  readonly connectionsTotal: Counter<"kind">;
  /** Room messages accepted from a local client or a peer server. */
  readonly messagesIn: Counter<"source">;
  /** Room messages sent to a local device or a peer server. */
  readonly messagesOut: Counter<"destination">;
  /** Unacknowledged items seen when a device's inbox is read. */
  readonly inboxDepth: Histogram;
  /** HTTP request latency by method, route pattern and status. */
  readonly requestDuration: Histogram<"method" | "route" | "status">;
  /** Errors answered, by error code from the project's error table. */
  readonly errors: Counter<"code">;
  /** Rows removed by retention sweeps, by what was swept. */
  readonly sweptRows: Counter<"kind">;
}

export function createMetrics(): HomeserverMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "parley_" });
  const registers = [registry];
  return {
    registry,
    connectionsOpen: new Gauge({
      name: "parley_connections_open",
      help: "Open connections by kind.",
      labelNames: ["kind"],
      registers,
    }),
    connectionsTotal: new Counter({
      name: "parley_connections_total",
      help: "Connections accepted since start, by kind.",
      labelNames: ["kind"],
      registers,
    }),
    messagesIn: new Counter({
      name: "parley_messages_in_total",
      help: "Room messages accepted, by source (client, federation).",
      labelNames: ["source"],
      registers,
    }),
    messagesOut: new Counter({
      name: "parley_messages_out_total",
      help: "Room messages delivered, by destination (device, federation).",
      labelNames: ["destination"],
      registers,
    }),
    inboxDepth: new Histogram({
      name: "parley_inbox_depth_items",
      help: "Unacknowledged inbox items when a device reads its inbox.",
      buckets: [0, 1, 10, 100, 1000, 10_000],
      registers,
    }),
    requestDuration: new Histogram({
      name: "parley_http_request_duration_seconds",
      help: "HTTP request latency by method, route pattern and status code.",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    errors: new Counter({
      name: "parley_errors_total",
      help: "Errors answered to clients and peers, by error code.",
      labelNames: ["code"],
      registers,
    }),
    sweptRows: new Counter({
      name: "parley_retention_swept_total",
      help: "Rows removed by retention and expiry sweeps, by kind.",
      labelNames: ["kind"],
      registers,
    }),
  };
}
