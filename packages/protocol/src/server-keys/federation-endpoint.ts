import { ParleyError } from "../errors/parley-error.ts";
import { isLoopbackServerName, type ServerName } from "../identifiers/server-name.ts";
import { federationEndpointBytesMax } from "../limits.ts";

/**
 * Checks the federation endpoint a server publishes: an absolute https URL
 * in the canonical form a WHATWG URL parser prints (so one endpoint has one
 * spelling), without user info, query or fragment. Plain http is allowed
 * only for loopback server names, for local runs and tests.
 *
 * The endpoint's host may differ from the server name (a server may delegate
 * federation to another host); the key document's signature is what ties
 * them together.
 */
export function checkFederationEndpoint(server: ServerName, endpoint: string): void {
  if (endpoint.length > federationEndpointBytesMax) {
    invalid(endpoint, `longer than ${federationEndpointBytesMax} characters`);
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (cause) {
    throw new ParleyError("bad_federation_endpoint", "the federation endpoint is not a URL", {
      cause,
    });
  }
  const plainHttpAllowed = isLoopbackServerName(server);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && plainHttpAllowed)) {
    invalid(endpoint, plainHttpAllowed ? "not http or https" : "not https");
  }
  if (url.username !== "" || url.password !== "") invalid(endpoint, "it has user info");
  if (url.search !== "" || url.hash !== "" || endpoint.includes("?") || endpoint.includes("#")) {
    invalid(endpoint, "it has a query or fragment");
  }
  if (url.href !== endpoint) invalid(endpoint, `not canonical (canonical form: ${url.href})`);
}

function invalid(endpoint: string, reason: string): never {
  const shown = endpoint.length > 80 ? `${endpoint.slice(0, 80)}…` : endpoint;
  throw new ParleyError("bad_federation_endpoint", `"${shown}" is not usable: ${reason}`);
}
