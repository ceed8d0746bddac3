// The links' metrics, on the homeserver's registry (observability/metrics.ts).
// Labels come from fixed sets, never from peer names, so the series stay few.
// A metric already registered (a second LinkManager in one process) is reused.

import { Counter, Gauge, type Registry } from "prom-client";
import type { HomeserverMetrics } from "../../observability/metrics.ts";

export interface LinkMetrics {
  readonly linksUp: Gauge;
  readonly frames: Counter<"direction" | "delivery">;
  readonly bytes: Counter<"direction">;
  readonly queuedFrames: Gauge;
  readonly queuedBytes: Gauge;
  readonly refusals: Counter<"code">;
  readonly connectionsOpen: HomeserverMetrics["connectionsOpen"];
  readonly connectionsTotal: HomeserverMetrics["connectionsTotal"];
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  const known = registry.getSingleMetric(name);
  if (known instanceof Gauge) return known;
  return new Gauge({ name, help, registers: [registry] });
}

function counter<Label extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly Label[],
): Counter<Label> {
  const known = registry.getSingleMetric(name);
  if (known instanceof Counter) return known as Counter<Label>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function createLinkMetrics(metrics: HomeserverMetrics): LinkMetrics {
  const { registry } = metrics;
  return {
    linksUp: gauge(registry, "parley_federation_links_up", "Authenticated links up now."),
    frames: counter(
      registry,
      "parley_federation_frames_total",
      "Federation frames over links, by direction (in, out) and delivery (durable, best-effort, dropped).",
      ["direction", "delivery"],
    ),
    bytes: counter(
      registry,
      "parley_federation_bytes_total",
      "Payload bytes over links, by direction.",
      ["direction"],
    ),
    queuedFrames: gauge(
      registry,
      "parley_federation_queue_frames",
      "Durable frames stored and not yet acknowledged, all peers.",
    ),
    queuedBytes: gauge(
      registry,
      "parley_federation_queue_bytes",
      "Bytes of durable frames stored and not yet acknowledged, all peers.",
    ),
    refusals: counter(
      registry,
      "parley_federation_link_refusals_total",
      "Connections and frames refused or closed with an error code, by code.",
      ["code"],
    ),
    connectionsOpen: metrics.connectionsOpen,
    connectionsTotal: metrics.connectionsTotal,
  };
}
