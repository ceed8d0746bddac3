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

export * as limits from "./limits.ts";
export { StorageError, type StorageErrorCode } from "./storage/errors.ts";
export { type OpenStorageOptions, openStorage, type StorageConfig } from "./storage/open.ts";
export type * from "./storage/records.ts";
export type * from "./storage/storage.ts";
