/**
 * @parley/mls/node: what only Node can run. `nodePrimitives` are the cipher
 * suite's primitives on node:crypto, called synchronously; pass them to
 * `createMlsCrypto({ primitives: nodePrimitives })` on servers, the CLI and
 * benchmarks. Browsers use the package's main entry without them.
 */
export { nodePrimitives } from "./crypto/node-primitives.ts";
