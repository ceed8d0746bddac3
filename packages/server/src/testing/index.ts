// What tests and benchmarks of every package use to run real homeservers:
// a homeserver as a child process (crash with SIGKILL, restart on the same
// data), a TCP proxy that can cut or block connections, and the configuration
// and silent logger of a homeserver started inside a test. Not used by the
// server itself.

export type { RoomFederationStatus } from "../federation/room-status.ts";
export {
  FederationCluster,
  type FederationClusterOptions,
  freeLoopbackPort,
  pollUntil,
} from "./federation-cluster.ts";
export { type HomeserverOptions, HomeserverProcess } from "./homeserver-process.ts";
export { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";
export { silentLogger, testHomeserverConfig } from "./test-config.ts";
