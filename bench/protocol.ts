import type { Benchmark } from "./harness.ts";

export const protocolBenchmark: Benchmark = {
  name: "protocol",
  description: "encode, decode, sign, verify and full device-record verification on one core",
  async run() {
    throw new Error("not written yet");
  },
};
