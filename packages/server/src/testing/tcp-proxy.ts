// A TCP proxy on loopback in front of a homeserver, so a test can cut
// connections abruptly (no WebSocket close frame, as when a network path
// dies) while the server keeps running: `cutAll` drops what is open and lets
// new connections in; `block` drops everything and refuses new connections
// (a partition) until `heal`. The federation tests put one proxy per ordered
// pair of servers (`federation.peer_addresses`), so blocking both of a pair's
// proxies cuts exactly that pair's link.

import { createServer, type Server, Socket } from "node:net";

export interface TcpProxy {
  /** The proxy's base URL, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** The proxy's host:port. */
  readonly address: string;
  /** Destroys every open connection on both sides and returns how many sockets that was. New connections still work. */
  cutAll(): number;
  /** Destroys every open connection and refuses new ones until `heal`. */
  block(): void;
  heal(): void;
  readonly blocked: boolean;
  close(): Promise<void>;
}

/** A proxy to `target` (a URL or host:port on loopback). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target.includes("://") ? target : `http://${target}`);
  const open = new Set<Socket>();
  let blocked = false;
  const server: Server = createServer((incoming) => {
    if (blocked) {
      incoming.destroy();
      return;
    }
    const outgoing = new Socket();
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
  const bound = server.address();
  if (bound === null || typeof bound === "string") throw new Error("no proxy address");
  const cutAll = () => {
    const count = open.size;
    for (const socket of open) socket.destroy();
    open.clear();
    return count;
  };
  return {
    url: `http://127.0.0.1:${bound.port}`,
    address: `127.0.0.1:${bound.port}`,
    cutAll,
    block() {
      blocked = true;
      cutAll();
    },
    heal() {
      blocked = false;
    },
    get blocked() {
      return blocked;
    },
    close() {
      cutAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
