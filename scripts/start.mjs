// `npm start`: runs a Parley homeserver on embedded SQLite (./parley-data),
// exactly as `parley server` would; arguments after `npm start --` are passed
// on (for example `npm start -- --config parley.toml`).
import { register } from "tsx/esm/api";

register();
process.argv.splice(2, 0, "server");
await import("../packages/cli/src/main.ts");
