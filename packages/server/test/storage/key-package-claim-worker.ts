// A child process for the SQLite multi-process KeyPackage test: opens the
// shared file, claims the phone's KeyPackages `count` times, and prints what it
// got as one JSON line. Usage: key-package-claim-worker.ts <database file> <count>

import { openStorage } from "../../src/index.ts";
import { startMs } from "../storage-contract/fixtures.ts";

const [path, countText] = process.argv.slice(2);
if (path === undefined || countText === undefined) {
  throw new Error("usage: key-package-claim-worker.ts <database file> <count>");
}
const storage = await openStorage({ kind: "sqlite", path });
const claimed: string[] = [];
try {
  for (let round = 0; round < Number(countText); round += 1) {
    for (const one of await storage.keyPackages.claim(["phone"], startMs)) {
      claimed.push(new TextDecoder().decode(one.keyPackage).slice(3));
    }
  }
} finally {
  await storage.close();
}
process.stdout.write(`${JSON.stringify(claimed)}\n`);
