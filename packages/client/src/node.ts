/**
 * @parley/client/node: what only Node can run. A file-backed ClientStore, and
 * `nodeClientOptions()`, which fills in node:crypto's Ed25519 (about ten
 * times faster than noble at verifying), node:crypto's MLS primitives and,
 * on Node 20 where there is no global WebSocket, the `ws` package's.
 */

import { nodePrimitives } from "@parley/mls/node";
import { nodeSignatureProvider } from "@parley/protocol/node";
import WebSocket from "ws";
import type { ParleyClientOptions } from "./client-wiring.ts";
import { platformWebSocket, type WebSocketConstructor } from "./stream/web-socket.ts";

export { FileStore } from "./node/file-store.ts";

/**
 * Options for a client running in Node: `options` as given, with node:crypto
 * signatures and a WebSocket (the platform's, or `ws` on Node 20) unless set.
 */
export function nodeClientOptions<Options extends ParleyClientOptions>(
  options: Options = {} as Options,
): Options & Required<Pick<ParleyClientOptions, "signatureProvider" | "webSocket">> {
  // ws implements the standard's members the SDK uses; its types name its own event classes.
  const webSocket = platformWebSocket() ?? (WebSocket as unknown as WebSocketConstructor);
  return {
    signatureProvider: nodeSignatureProvider,
    webSocket,
    ...options,
    encryption: { primitives: nodePrimitives, ...options.encryption },
  };
}
