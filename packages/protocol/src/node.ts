/**
 * @parley/protocol/node: what only Node can run. Today that is the
 * node:crypto signature provider, about ten times faster than the noble one
 * at verifying; servers use it. Browser code imports "@parley/protocol" only.
 */
export { nodeSignatureProvider } from "./crypto/node-provider.ts";
