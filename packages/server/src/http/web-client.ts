// Serves the browser client (packages/web, built by Vite into dist/) at `/`.
// The files are read once at start-up into memory: the bundle is a few
// hundred kilobytes, requests then never touch the disk, and only names that
// exist in the bundle can ever be answered (no path from a URL reaches the
// file system). Hashed assets under /assets/ are cached for a year; every
// other file, index.html above all, is revalidated with its ETag so a new
// build reaches browsers at once. Client routes (/rooms/…) get index.html;
// the API and well-known prefixes never do, so a wrong API path still answers
// a JSON `not_found`.

import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../observability/logger.ts";
import type { ProcessServer } from "../process/app.ts";

/** Where the monorepo's build puts the bundle: packages/web/dist. */
export const bundledWebClientDirectory = fileURLToPath(
  new URL("../../../web/dist/", import.meta.url),
);

/** Files in a bundle; Vite emits a handful, so thousands means a wrong directory. */
const bundleFilesMax = 2000;
/** Bytes of a bundle held in memory; the client is well under 5 MiB. */
const bundleBytesMax = 64 * 1024 * 1024;

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

const immutable = "public, max-age=31536000, immutable";
const revalidate = "no-cache";

// The client talks only to its own origin (its homeserver), over HTTP and the
// stream's WebSocket; React sets inline style attributes, hence the style rule.
const contentSecurityPolicy = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

interface BundleFile {
  readonly bytes: Buffer;
  readonly contentType: string;
  readonly cacheControl: string;
  readonly etag: string;
}

/** Paths that belong to the server, never to the client's router. */
function isServerPath(pathname: string): boolean {
  return (
    pathname === "/_parley" ||
    pathname.startsWith("/_parley/") ||
    pathname === "/.well-known" ||
    pathname.startsWith("/.well-known/")
  );
}

async function loadBundle(directory: string): Promise<Map<string, BundleFile>> {
  const names = await readdir(directory, { recursive: true });
  if (names.length > bundleFilesMax) {
    throw new Error(`${directory} holds over ${bundleFilesMax} entries: not a web client bundle`);
  }
  const files = new Map<string, BundleFile>();
  let totalBytes = 0;
  for (const name of names) {
    const path = join(directory, name);
    if (!(await stat(path)).isFile()) continue;
    const bytes = await readFile(path);
    totalBytes += bytes.length;
    if (totalBytes > bundleBytesMax) {
      throw new Error(`${directory} holds over ${bundleBytesMax} bytes: not a web client bundle`);
    }
    const urlPath = `/${name.split(sep).join("/")}`;
    const hash = createHash("sha256").update(bytes).digest("base64url").slice(0, 22);
    files.set(urlPath, {
      bytes,
      contentType: contentTypes[extname(name).toLowerCase()] ?? "application/octet-stream",
      cacheControl: urlPath.startsWith("/assets/") ? immutable : revalidate,
      etag: `"${hash}"`,
    });
  }
  return files;
}

function send(request: FastifyRequest, reply: FastifyReply, file: BundleFile): FastifyReply {
  reply
    .header("content-type", file.contentType)
    .header("cache-control", file.cacheControl)
    .header("etag", file.etag)
    .header("x-content-type-options", "nosniff");
  if (file.contentType.startsWith("text/html")) {
    reply
      .header("content-security-policy", contentSecurityPolicy)
      .header("referrer-policy", "no-referrer");
  }
  if (request.headers["if-none-match"] === file.etag) return reply.code(304).send();
  return reply.code(200).send(file.bytes);
}

export interface WebClientOptions {
  /** The built bundle: a directory with index.html and assets/. */
  readonly directory: string;
  readonly logger: Logger;
}

/**
 * Registers GET (and HEAD) for `/` and every path the server does not route
 * itself. Routes registered elsewhere (/health, the client API) take
 * precedence, as Fastify prefers static routes to this wildcard. Without a
 * built bundle only `/` answers, with a sentence saying how to build it.
 */
export async function registerWebClient(
  app: ProcessServer,
  options: WebClientOptions,
): Promise<void> {
  const files = await loadBundle(options.directory).catch((error: unknown) => {
    options.logger.warn(
      { err: error, directory: options.directory },
      "the web client is not built; run `npm run build -w @parley/web` and restart",
    );
    return new Map<string, BundleFile>();
  });
  const index = files.get("/index.html");
  if (index === undefined) {
    app.get("/", async (_request, reply) =>
      reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .send("The web client is not built. Run `npm run build -w @parley/web` and restart.\n"),
    );
    return;
  }
  app.get("/*", async (request, reply) => {
    const pathname = new URL(request.url, "http://host").pathname;
    const file = files.get(pathname);
    if (file !== undefined) return send(request, reply, file);
    if (isServerPath(pathname)) {
      return reply.code(404).send({ code: "not_found", message: "no such endpoint" });
    }
    // A missing file (its last segment has an extension) is a 404, not the app.
    const lastSegment = pathname.slice(pathname.lastIndexOf("/") + 1);
    if (lastSegment.includes(".")) {
      return reply.code(404).type("text/plain; charset=utf-8").send("not found\n");
    }
    return send(request, reply, index);
  });
}
