/**
 * One worker thread of `runSeedsInWorkers`: runs the seed ranges it is
 * sent and answers each with its BatchResult (failures whole, as plain data).
 */
import { parentPort } from "node:worker_threads";
import { runSeeds, type SeedRange } from "./batch.ts";

const port = parentPort;
if (port === null) throw new Error("simulation-worker.ts runs only as a worker thread");
port.on("message", (range: SeedRange) => {
  port.postMessage(runSeeds(range));
});
