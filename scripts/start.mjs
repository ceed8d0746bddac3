// `npm start`: runs a Parley homeserver on embedded SQLite (./parley-data),
// exactly as `parley server` would; arguments after `npm start --` are passed
// on (for example `npm start -- --config parley.toml`). The browser client it
// serves at `/` is built first when missing or older than its sources.
// `npm run demo` comes here too (`start.mjs demo`): `parley demo`'s three
// homeservers serve the same client.
import { register } from "tsx/esm/api";

register();
const { ensureWebClientBuilt } = await import("../packages/web/scripts/ensure-built.ts");
try {
  await ensureWebClientBuilt((line) => process.stdout.write(`${line}\n`));
} catch (error) {
  // The server runs without it; its page at / says how to build the client.
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
}
if (process.argv[2] !== "demo") process.argv.splice(2, 0, "server");
await import("../packages/cli/src/main.ts");
