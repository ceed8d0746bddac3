// GET /rooms/{roomId}/certificate (docs/protocol.md §10.3): a room's newest
// control certificate with the control records it covers from an index, the
// sponsor set at the certificate's index and the signers' public keys, so a
// client checks with checkCertifiedRecords (@parley/protocol) that a control
// entry it received is certified before believing it.

import { certifiedRecordsFrom } from "@parley/federation";
import { certificateAnswerJson, ParleyError, type ServerName } from "@parley/protocol";
import { z } from "zod";
import type { FederationRuntime } from "../federation/federation-runtime.ts";
import type { ClientApiScope, RouteContext } from "./client-api.ts";
import { parseBody, roomIdField } from "./json-fields.ts";

const roomParams = z.strictObject({ roomId: roomIdField });
const certificateQuery = z.strictObject({
  from: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
});

export function registerCertificateRoutes(
  scope: ClientApiScope,
  context: RouteContext,
  federation: FederationRuntime,
): void {
  scope.get("/rooms/:roomId/certificate", async (request) => {
    const session = await context.authenticate(request);
    const { roomId } = parseBody(roomParams, request.params, "path");
    const { from } = parseBody(certificateQuery, request.query, "query");
    await context.rooms.stateFor(roomId, session.userId);
    const served = federation.driver.view((host) => {
      const room = host.session(roomId);
      if (room === undefined) return "not-held" as const;
      return certifiedRecordsFrom(room, from ?? room.certificate?.index ?? 1);
    });
    if (served === "not-certified") {
      throw new ParleyError("unavailable", "no certificate covers that control index yet");
    }
    if (served === "not-held") {
      throw new ParleyError("unavailable", "this server no longer holds those control records");
    }
    const keys = federation.certificateKeys;
    const publicKeys = new Map<ServerName, readonly Uint8Array[]>();
    for (const [server] of served.certificate.signatures) {
      const listed = keys?.publicKeysOf(server);
      if (listed === undefined) keys?.want([server]);
      else publicKeys.set(server, listed);
    }
    return certificateAnswerJson({ roomId, served, publicKeys });
  });
}
