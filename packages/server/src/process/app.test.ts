import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../observability/logger.ts";
import { createMetrics } from "../observability/metrics.ts";
import { createProcessServer } from "./app.ts";

const silent = createLogger(
  "silent",
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  }),
);

function build(
  options: { ping?: () => Promise<void>; shuttingDown?: boolean; federationHealthy?: boolean } = {},
) {
  const metrics = createMetrics();
  const { federationHealthy } = options;
  const app = createProcessServer({
    storage: { ping: options.ping ?? (async () => {}) },
    metrics,
    logger: silent,
    shuttingDown: () => options.shuttingDown ?? false,
    ...(federationHealthy === undefined ? {} : { federationHealthy: () => federationHealthy }),
  });
  return { app, metrics };
}

const apps: Array<{ close(): Promise<unknown> }> = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe("process server", () => {
  it("reports healthy when the database answers", async () => {
    const { app } = build();
    apps.push(app);
    const response = await app.inject({ method: "GET", url: "/health" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok", checks: { database: "ok" } });
  });

  it("reports 503 when the database fails, without saying why to the caller", async () => {
    const { app } = build({
      ping: async () => {
        throw new Error("connection refused to db.internal:5432");
      },
    });
    apps.push(app);
    const response = await app.inject({ method: "GET", url: "/health" });
    expect(response.statusCode).toBe(503);
    expect(response.body).not.toContain("db.internal");
    expect(response.json()).toEqual({ status: "unavailable", checks: { database: "unreachable" } });
  });

  it("reports 503 once federation has stopped on a storage failure", async () => {
    const { app } = build({ federationHealthy: false });
    apps.push(app);
    const response = await app.inject({ method: "GET", url: "/health" });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      status: "unavailable",
      checks: { database: "ok", federation: "stopped" },
    });
    const healthy = build({ federationHealthy: true });
    apps.push(healthy.app);
    const ok = await healthy.app.inject({ method: "GET", url: "/health" });
    expect(ok.json()).toEqual({ status: "ok", checks: { database: "ok", federation: "ok" } });
  });

  it("reports 503 while shutting down so load balancers move away", async () => {
    const { app } = build({ shuttingDown: true });
    apps.push(app);
    const response = await app.inject({ method: "GET", url: "/health" });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ status: "shutting-down" });
  });

  it("exposes Prometheus metrics, including request latency by route pattern", async () => {
    const { app } = build();
    apps.push(app);
    await app.inject({ method: "GET", url: "/health" });
    await app.inject({ method: "GET", url: "/no/such/path?x=1" });
    const response = await app.inject({ method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toContain("text/plain");
    const text = response.body;
    for (const name of [
      "parley_connections_open",
      "parley_messages_in_total",
      "parley_messages_out_total",
      "parley_inbox_depth_items",
      "parley_errors_total",
      "parley_process_resident_memory_bytes",
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(
      /parley_http_request_duration_seconds_count\{method="GET",route="\/health",status="200"\} 1/,
    );
    expect(text).toMatch(/route="unmatched",status="404"/);
    expect(text).not.toContain("/no/such/path");
    expect(text).toMatch(/parley_errors_total\{code="not-found"\} 1/);
  });

  it("answers unknown paths with a code and nothing internal", async () => {
    const { app } = build();
    apps.push(app);
    const response = await app.inject({ method: "POST", url: "/secret/admin" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: { code: "not-found", message: "no such endpoint" } });
  });
});
