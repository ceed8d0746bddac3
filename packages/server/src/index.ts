// @parley/server: the Parley homeserver.
//
// Today this package holds the homeserver's storage (one contract, SQLite by
// default and PostgreSQL for deployments that share a database between
// processes), its configuration, logging and metrics, and the process that
// serves /health and /metrics. The client API, accounts and rooms logic will
// build on the Storage repositories exported here.
//
// Callers owe it: run `storage.migrations.migrateToLatest()` before using the
// repositories; validate everything from outside before it reaches storage
// (the repositories only assert sizes and shapes).

export {
  type AdminCredential,
  adminTokenFileName,
  loadOrCreateAdminToken,
} from "./administration/admin-token.ts";
export { ServerBlockList } from "./administration/server-block-list.ts";
export {
  ConfigError,
  type ConfigSources,
  describeConfig,
  type HomeserverConfig,
  type LogLevel,
  loadConfig,
} from "./config/load.ts";
export { environmentVariableName, settingPaths } from "./config/settings.ts";
export {
  type DocumentFetcher,
  keyDocumentUrl,
  PeerDirectory,
  type PeerDirectoryOptions,
  type PeerKeys,
  wellKnownDocumentPath,
} from "./federation/discovery/peer-directory.ts";
export { registerKeyDocumentRoute } from "./federation/discovery/well-known-route.ts";
export {
  InProcessLinks,
  InProcessNetwork,
  type InProcessNetworkOptions,
} from "./federation/links/in-process-links.ts";
export { defaultLinkLimits, type LinkLimits } from "./federation/links/limits.ts";
export type { Delivery, FederationLinks, LinkHandlers } from "./federation/links/link-api.ts";
export {
  federationLinkPath,
  LinkManager,
  type LinkManagerOptions,
} from "./federation/links/link-manager.ts";
export {
  DatabaseFederationStorage,
  type DatabaseFederationStorageOptions,
} from "./federation/storage/database-federation-storage.ts";
export {
  createServerSigner,
  generateEd25519Key,
  type KeyGenerator,
  keyIdFor,
  loadOrCreateServerKey,
  type ServerSigner,
} from "./identity/server-key.ts";
export * as limits from "./limits.ts";
export { createLogger, type Logger } from "./observability/logger.ts";
export { createMetrics, type HomeserverMetrics } from "./observability/metrics.ts";
export { createProcessServer, type ProcessServer } from "./process/app.ts";
export {
  type HomeserverEnvironment,
  type RunningHomeserver,
  startHomeserver,
} from "./process/homeserver.ts";
export { InFlightWork, ShuttingDownError } from "./process/in-flight.ts";
export { StorageError, type StorageErrorCode } from "./storage/errors.ts";
export { type OpenStorageOptions, openStorage, type StorageConfig } from "./storage/open.ts";
export type * from "./storage/records.ts";
export type * from "./storage/storage.ts";
