import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../observability/logger.ts";
import { createMetrics } from "../observability/metrics.ts";
import { createProcessServer, type ProcessServer } from "../process/app.ts";
import { registerWebClient } from "./web-client.ts";

const silent = createLogger(
  "silent",
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  }),
);

const cleanUps: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
});

async function bundle(files: Record<string, string>): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), "parley-web-client-"));
  cleanUps.push(() => rm(directory, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    const path = join(directory, name);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, text);
  }
  return directory;
}

async function serve(directory: string): Promise<ProcessServer> {
  const app = createProcessServer({
    storage: { ping: async () => {} },
    metrics: createMetrics(),
    logger: silent,
    shuttingDown: () => false,
  });
  cleanUps.push(() => app.close());
  // As the client API does: a prefixed scope with its own not-found answer.
  await app.register(
    async (scope) => {
      scope.get("/rooms", async () => ({ rooms: [] }));
      scope.setNotFoundHandler(async (_request, reply) =>
        reply.code(404).send({ code: "not_found", message: "no such endpoint" }),
      );
    },
    { prefix: "/_parley/client/v1" },
  );
  await registerWebClient(app, { directory, logger: silent });
  return app;
}

const indexHtml = '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>';

describe("web client serving", () => {
  it("serves index.html at / with a revalidating cache and a content security policy", async () => {
    const app = await serve(await bundle({ "index.html": indexHtml }));
    const response = await app.inject({ method: "GET", url: "/" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(response.headers["cache-control"]).toBe("no-cache");
    expect(response.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(response.body).toBe(indexHtml);
  });

  it("serves hashed assets with their content type, cached for a year", async () => {
    const app = await serve(
      await bundle({
        "index.html": indexHtml,
        "assets/index-abc123.js": "console.log(1)",
        "assets/index-def456.css": "body{}",
        "favicon.svg": "<svg/>",
      }),
    );
    const script = await app.inject({ method: "GET", url: "/assets/index-abc123.js" });
    expect(script.statusCode).toBe(200);
    expect(script.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(script.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(script.body).toBe("console.log(1)");
    const style = await app.inject({ method: "GET", url: "/assets/index-def456.css" });
    expect(style.headers["content-type"]).toBe("text/css; charset=utf-8");
    const icon = await app.inject({ method: "GET", url: "/favicon.svg" });
    expect(icon.headers["content-type"]).toBe("image/svg+xml");
    expect(icon.headers["cache-control"]).toBe("no-cache");
  });

  it("answers 304 to a matching ETag", async () => {
    const app = await serve(await bundle({ "index.html": indexHtml }));
    const first = await app.inject({ method: "GET", url: "/" });
    const etag = first.headers.etag;
    expect(typeof etag).toBe("string");
    const second = await app.inject({
      method: "GET",
      url: "/",
      headers: { "if-none-match": String(etag) },
    });
    expect(second.statusCode).toBe(304);
    expect(second.body).toBe("");
  });

  it("answers client routes with index.html, but not the API, well-known paths or missing files", async () => {
    const app = await serve(await bundle({ "index.html": indexHtml }));
    const route = await app.inject({ method: "GET", url: "/rooms/!abc?x=1" });
    expect(route.statusCode).toBe(200);
    expect(route.body).toBe(indexHtml);

    const api = await app.inject({ method: "GET", url: "/_parley/client/v1/nonsense" });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toEqual({ code: "not_found", message: "no such endpoint" });
    const federation = await app.inject({ method: "GET", url: "/_parley/federation/v1/x" });
    expect(federation.statusCode).toBe(404);
    expect(federation.json()).toMatchObject({ code: "not_found" });
    const wellKnown = await app.inject({ method: "GET", url: "/.well-known/parley/server" });
    expect(wellKnown.statusCode).toBe(404);
    expect(wellKnown.body).not.toBe(indexHtml);

    const missing = await app.inject({ method: "GET", url: "/assets/gone-123.js" });
    expect(missing.statusCode).toBe(404);
  });

  it("leaves the server's own routes alone", async () => {
    const app = await serve(await bundle({ "index.html": indexHtml }));
    const rooms = await app.inject({ method: "GET", url: "/_parley/client/v1/rooms" });
    expect(rooms.json()).toEqual({ rooms: [] });
    const health = await app.inject({ method: "GET", url: "/health" });
    expect(health.json()).toMatchObject({ status: "ok" });
    const post = await app.inject({ method: "POST", url: "/anything" });
    expect(post.statusCode).toBe(404);
  });

  it("without a built bundle, says at / how to build it", async () => {
    const app = await serve(join(tmpdir(), "parley-no-such-bundle"));
    const response = await app.inject({ method: "GET", url: "/" });
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain("npm run build -w @parley/web");
    const route = await app.inject({ method: "GET", url: "/rooms/x" });
    expect(route.statusCode).toBe(404);
  });
});
