import { cpus } from "node:os";

/** One measured figure: a value with its unit, for example 12_345 "ops/s". */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** What the figure is compared against (a target or an anchor), in words. */
  readonly note?: string;
}

export interface BenchmarkOptions {
  /**
   * Smoke mode runs every code path for a moment so the benchmark cannot rot;
   * its figures mean nothing and are never written down.
   */
  readonly smoke: boolean;
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(options: BenchmarkOptions): Promise<readonly Figure[]>;
}

export interface BenchmarkReport {
  readonly benchmark: string;
  readonly description: string;
  readonly date: string;
  readonly machine: {
    readonly nproc: number;
    readonly cpuModel: string;
    readonly node: string;
    readonly platform: string;
  };
  readonly figures: readonly Figure[];
}

export function describeMachine(): BenchmarkReport["machine"] {
  const processors = cpus();
  return {
    nproc: processors.length,
    cpuModel: processors[0]?.model ?? "unknown",
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/**
 * Runs `operation` repeatedly in rounds of `durationMs` and returns the median
 * rate in operations per second. Medians, because these machines are noisy.
 */
export function measureRate(
  operation: () => void,
  options: { readonly rounds: number; readonly durationMs: number },
): number {
  const rates: number[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    let count = 0;
    const start = performance.now();
    let elapsed = 0;
    // Check the clock every 64 operations so timing costs little.
    while (elapsed < options.durationMs) {
      for (let step = 0; step < 64; step += 1) operation();
      count += 64;
      elapsed = performance.now() - start;
    }
    rates.push((count * 1000) / elapsed);
  }
  return median(rates);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile of `values` (0 < p ≤ 100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error("percentile of an empty list");
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map((figure) => [
    figure.name,
    formatNumber(figure.value),
    figure.unit,
    figure.note ?? "",
  ]);
  const header = ["figure", "value", "unit", "note"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ");
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join(
    "\n",
  );
}

function formatNumber(value: number): string {
  if (Number.isInteger(value) || Math.abs(value) >= 100) {
    return Math.round(value).toLocaleString("en-US");
  }
  return value.toPrecision(3);
}
