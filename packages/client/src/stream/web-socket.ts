// The few members of the standard WebSocket the SDK uses: the browser's
// native one, Node 22's global one and the `ws` package (Node 20) all have
// them. The SDK never names a platform's class, only this shape.

export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
  onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** `readyState` of an open socket, as in the standard. */
export const webSocketOpen = 1;

/** The platform's WebSocket, if it has one (browsers, Node 22 and later). */
export function platformWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}
