/**
 * `npm run sim`: the Raft simulator from the command line.
 *
 *   npm run sim -- --seeds 2000                 run seeds 1..2000, report seeds/s and failures
 *   npm run sim -- --seeds 2000 --workers 1     ... on this thread only (default: one thread per core)
 *   npm run sim -- --seeds 500 --first-seed 9000
 *   npm run sim -- --seed 1234                  replay one seed with its timeline
 *   npm run sim -- --seed 1234 --trace          ... plus the core's log and the network trace
 *   npm run sim -- --seeds 2000 --bug forgetVote   with an injected bug (see README)
 *
 * A run is determined by the seed, the options shown in the replay command,
 * and the git commit. Exits 1 if any seed failed.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { runSeeds } from "./batch.ts";
import { runSeedsInWorkers } from "./parallel.ts";
import { describeResult, describeRunSummary } from "./report.ts";
import { runSimulation, type SimulationResult } from "./run.ts";
import {
  defaultDurationMs,
  defaultOptions,
  type InjectedBug,
  injectedBugs,
  isInjectedBug,
} from "./scenario.ts";

const usage = `usage: npm run sim -- (--seeds N [--first-seed S] [--workers T] | --seed S [--trace]) [--duration-ms D] [--bug NAME]...
bugs: ${injectedBugs.join(", ")}`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      seeds: { type: "string" },
      "first-seed": { type: "string" },
      workers: { type: "string" },
      "duration-ms": { type: "string" },
      bug: { type: "string", multiple: true },
      trace: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help === true || (values.seed === undefined) === (values.seeds === undefined)) {
    console.log(usage);
    return values.help === true ? 0 : 2;
  }
  const durationMs = parseInteger(
    values["duration-ms"] ?? String(defaultDurationMs),
    "duration-ms",
  );
  const bugs: InjectedBug[] = [];
  for (const name of values.bug ?? []) {
    if (!isInjectedBug(name)) throw new Error(`unknown bug "${name}"\n${usage}`);
    bugs.push(name);
  }
  if (values.seed !== undefined) {
    const result = runSimulation({
      ...defaultOptions(parseInteger(values.seed, "seed")),
      durationMs,
      bugs,
      timeline: true,
      trace: values.trace === true,
    });
    if (values.trace === true) {
      console.log("network trace:");
      for (const line of result.networkTrace) console.log(`  ${line}`);
    }
    console.log("timeline:");
    for (const line of result.timeline) console.log(`  ${line}`);
    console.log(describeResult(result));
    return result.failure === null ? 0 : 1;
  }

  const range = {
    firstSeed: parseInteger(values["first-seed"] ?? "1", "first-seed"),
    count: parseInteger(values.seeds ?? "0", "seeds"),
    durationMs,
    bugs,
  };
  const workers = parseInteger(values.workers ?? String(availableParallelism()), "workers");
  const report = (failure: SimulationResult): void => console.log(describeResult(failure));
  const batch =
    workers <= 1 ? runSeeds(range, report) : await runSeedsInWorkers(range, workers, report);
  if (workers > 1) console.log(`(${workers} threads: this one and ${workers - 1} workers)`);
  console.log(describeRunSummary({ ...batch, failures: batch.failures.length }));
  return batch.failures.length === 0 ? 0 : 1;
}

function parseInteger(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`--${name} must be a non-negative integer, got "${text}"`);
  return value;
}

process.exitCode = await main();
