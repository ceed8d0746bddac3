// A link endpoint in its own process, for tests that kill it with SIGKILL.
// Usage: receiver-process.ts <directory> <label> <port> <received-file>.
// Every frame its handler receives is appended (synchronously, so it
// survives a kill) to the file as "<peer> <text>" before the handler
// resolves; it prints "ready <server name>" once it listens.

import { appendFileSync } from "node:fs";
import type { ServerName } from "@parley/protocol";
import { LinkEndpoint } from "./link-endpoint.ts";
import { RecordingHandlers } from "./recording-handlers.ts";

class FileHandlers extends RecordingHandlers {
  readonly #file: string;

  constructor(file: string) {
    super();
    this.#file = file;
  }

  override receive(peer: ServerName, bytes: Uint8Array): Promise<void> {
    appendFileSync(this.#file, `${peer} ${new TextDecoder().decode(bytes)}\n`);
    return Promise.resolve();
  }
}

const [directory, label, port, file] = process.argv.slice(2);
if (directory === undefined || label === undefined || port === undefined || file === undefined) {
  process.stderr.write("usage: receiver-process.ts <directory> <label> <port> <received-file>\n");
  process.exit(2);
}
const endpoint = LinkEndpoint.at(label, directory, Number(port));
await endpoint.start({ handlers: new FileHandlers(file) });
process.stdout.write(`ready ${endpoint.name}\n`);
