// A TCP proxy on loopback between a client and a homeserver, so a test can
// cut every connection abruptly (no WebSocket close frame, as when a network
// path dies) while the server keeps running.

import { createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** The proxy's base URL, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** Destroys every open connection on both sides. New connections still work. */
  cutAll(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  const server: Server = createServer((incoming) => {
    const outgoing = new (incoming.constructor as typeof Socket)();
    outgoing.connect(Number(port), hostname);
    open.add(incoming);
    open.add(outgoing);
    incoming.pipe(outgoing);
    outgoing.pipe(incoming);
    const end = () => {
      incoming.destroy();
      outgoing.destroy();
      open.delete(incoming);
      open.delete(outgoing);
    };
    incoming.on("error", end);
    outgoing.on("error", end);
    incoming.on("close", end);
    outgoing.on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no proxy address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    cutAll() {
      const count = open.size;
      for (const socket of open) socket.destroy();
      open.clear();
      return count;
    },
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
