/**
 * @parley/cli: the `parley` command (bin/parley.mjs → src/main.ts).
 *
 * What it does: `parley server` runs a homeserver with the server's own
 * configuration; `parley chat` is a line-based terminal client on the SDK
 * (@parley/client); a few tools do a client's cryptography (device keys, device
 * records, challenge and message signatures) so the API can be tried with
 * curl. The client module ("@parley/cli/client") is what the command, the
 * story tests and the benchmarks use to talk to a homeserver.
 *
 * `parley admin` administers a running homeserver through its admin API.
 */
export { serverHelp } from "./commands/server-command.ts";
