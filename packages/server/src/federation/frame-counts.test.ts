import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createFrameCounts } from "./frame-counts.ts";

async function value(registry: Registry, direction: string, type: string): Promise<number> {
  const metric = registry.getSingleMetric("parley_federation_frame_types_total");
  const values = (await metric?.get())?.values ?? [];
  return (
    values.find((one) => one.labels["direction"] === direction && one.labels["type"] === type)
      ?.value ?? 0
  );
}

describe("federation frame counts", () => {
  it("counts frames by direction and type on the registry's exposition", async () => {
    const registry = new Registry();
    const counts = createFrameCounts(registry);
    counts.sent("routed");
    counts.sent("routed");
    counts.received("routed");
    counts.received("undecodable");
    expect(await value(registry, "out", "routed")).toBe(2);
    expect(await value(registry, "in", "routed")).toBe(1);
    expect(await value(registry, "in", "undecodable")).toBe(1);
    expect(await value(registry, "out", "submit")).toBe(0);
    expect(await registry.metrics()).toContain(
      'parley_federation_frame_types_total{direction="out",type="routed"} 2',
    );
  });

  it("shares one counter between two users of one registry", async () => {
    const registry = new Registry();
    createFrameCounts(registry).sent("raft");
    createFrameCounts(registry).sent("raft");
    expect(await value(registry, "out", "raft")).toBe(2);
  });
});
