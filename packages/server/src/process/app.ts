// The homeserver's HTTP process server (Fastify). For now it serves only the
// operational endpoints, /health and /metrics; the client API registers its
// routes on the same instance later. Everything here works through
// `app.inject`, without a socket. Errors answer with a code and nothing
// internal; the code is counted in parley_errors_total.

import { type FastifyError, fastify, LogController } from "fastify";
import { healthProbeTimeoutMs, httpBodyBytesMax } from "../limits.ts";
import type { Logger } from "../observability/logger.ts";
import type { HomeserverMetrics } from "../observability/metrics.ts";
import type { Storage } from "../storage/storage.ts";

export interface ProcessServerDependencies {
  readonly storage: Pick<Storage, "ping">;
  readonly metrics: HomeserverMetrics;
  readonly logger: Logger;
  /** True once shutdown began: /health then answers 503 so balancers move away. */
  readonly shuttingDown: () => boolean;
  /** False once the federation core stopped on an error (its storage failed): /health answers 503. */
  readonly federationHealthy?: () => boolean;
}

/** Error codes this server answers with; the project-wide table will absorb them. */
export type ProcessErrorCode = "not-found" | "bad-request" | "internal" | "unavailable";

function errorBody(code: ProcessErrorCode, message: string) {
  return { error: { code, message } };
}

async function probeDatabase(storage: Pick<Storage, "ping">): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), healthProbeTimeoutMs);
  });
  try {
    return await Promise.race([storage.ping().then(() => true as const), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export type ProcessServer = ReturnType<typeof createProcessServer>;

// The return type is inferred: Fastify's instance type carries the logger type.
export function createProcessServer(dependencies: ProcessServerDependencies) {
  const { metrics, logger } = dependencies;
  const app = fastify({
    loggerInstance: logger,
    bodyLimit: httpBodyBytesMax,
    // One log line per request would drown the log at chat rates; latency and
    // status live in metrics, and failures are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    // Idle keep-alive connections are closed at shutdown; busy ones finish.
    forceCloseConnections: "idle",
  });

  app.addHook("onResponse", async (request, reply) => {
    metrics.requestDuration.observe(
      {
        method: request.method,
        // The route pattern, never the raw URL, keeps the label set bounded.
        route: request.routeOptions.url ?? "unmatched",
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.setNotFoundHandler(async (_request, reply) => {
    metrics.errors.inc({ code: "not-found" });
    return reply.code(404).send(errorBody("not-found", "no such endpoint"));
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      metrics.errors.inc({ code: "bad-request" });
      return reply.code(status).send(errorBody("bad-request", "the request is not valid"));
    }
    metrics.errors.inc({ code: "internal" });
    request.log.error({ err: error, route: request.routeOptions.url }, "request failed");
    return reply.code(500).send(errorBody("internal", "internal error"));
  });

  app.get("/health", async (_request, reply) => {
    if (dependencies.shuttingDown()) {
      metrics.errors.inc({ code: "unavailable" });
      return reply.code(503).send({ status: "shutting-down", checks: { database: "not-checked" } });
    }
    const databaseOk = await probeDatabase(dependencies.storage);
    if (!databaseOk) {
      metrics.errors.inc({ code: "unavailable" });
      return reply.code(503).send({ status: "unavailable", checks: { database: "unreachable" } });
    }
    if (dependencies.federationHealthy?.() === false) {
      metrics.errors.inc({ code: "unavailable" });
      return reply
        .code(503)
        .send({ status: "unavailable", checks: { database: "ok", federation: "stopped" } });
    }
    const federation = dependencies.federationHealthy === undefined ? {} : { federation: "ok" };
    return reply.send({ status: "ok", checks: { database: "ok", ...federation } });
  });

  app.get("/metrics", async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  return app;
}
