import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchmarkReport, describeMachine, formatTable } from "./harness.ts";
import { benchmarks } from "./registry.ts";

const resultsDirectory = join(dirname(fileURLToPath(import.meta.url)), "results");

async function main(argv: readonly string[]): Promise<number> {
  const name = argv[0];
  if (name === undefined || name === "--list") {
    process.stdout.write("Benchmarks (run one with: npm run bench -- NAME):\n");
    for (const benchmark of benchmarks) {
      process.stdout.write(`  ${benchmark.name.padEnd(12)} ${benchmark.description}\n`);
    }
    return 0;
  }
  const benchmark = benchmarks.find((candidate) => candidate.name === name);
  if (benchmark === undefined) {
    process.stderr.write(`unknown benchmark "${name}"; npm run bench lists them\n`);
    return 2;
  }
  const smoke = argv.includes("--smoke");
  const figures = await benchmark.run({ smoke });
  process.stdout.write(`${benchmark.name}: ${benchmark.description}\n\n${formatTable(figures)}\n`);
  if (smoke) return 0;
  const report: BenchmarkReport = {
    benchmark: benchmark.name,
    description: benchmark.description,
    date: new Date().toISOString(),
    machine: describeMachine(),
    figures,
  };
  mkdirSync(resultsDirectory, { recursive: true });
  const path = join(resultsDirectory, `${benchmark.name}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nwritten to bench/results/${benchmark.name}.json\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
