// Serves this server's key document at the well-known path (§12.10.1): the
// exact signed bytes, as canonical CBOR. Peers verify it themselves, so the
// route needs no authentication; a short cache lifetime lets a rotation
// reach them within minutes.

import type { ProcessServer } from "../../process/app.ts";
import { wellKnownDocumentPath } from "./peer-directory.ts";

export const keyDocumentContentType = "application/cbor";

/** Registers `GET /.well-known/parley/server`; `document` answers null until the identity is known. */
export function registerKeyDocumentRoute(
  app: ProcessServer,
  document: () => Uint8Array | null,
): void {
  app.get(wellKnownDocumentPath, async (_request, reply) => {
    const bytes = document();
    if (bytes === null) {
      return reply
        .code(503)
        .send({ code: "unavailable", message: "the server's identity is not ready" });
    }
    return reply
      .header("cache-control", "public, max-age=300")
      .type(keyDocumentContentType)
      .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}
