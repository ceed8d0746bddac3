// A child process for the SQLite multi-process test: opens the shared file and
// appends events (each twice, as a retrying client would), single and batched,
// then exits. Usage: append-worker.ts <database file> <worker name> <count>

import { openStorage } from "../../src/index.ts";
import { newEvent } from "../storage-contract/fixtures.ts";

const [path, workerName, countText] = process.argv.slice(2);
if (path === undefined || workerName === undefined || countText === undefined) {
  throw new Error("usage: append-worker.ts <database file> <worker name> <count>");
}
const count = Number(countText);
const rooms = ["a", "b", "c"];
const storage = await openStorage({ kind: "sqlite", path });
try {
  for (let index = 0; index < count; index += 2) {
    const events = [index, index + 1].map((number) =>
      newEvent(rooms[number % rooms.length] ?? "a", `${number}`, { senderDeviceId: workerName }),
    );
    await storage.events.appendBatch(events);
    for (const event of events) {
      const retry = await storage.events.append(event);
      if (retry.kind !== "duplicate") {
        throw new Error("a retried event was stored twice");
      }
    }
  }
} finally {
  await storage.close();
}
