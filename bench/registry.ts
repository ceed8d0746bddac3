import { fanoutBenchmark } from "./fanout.ts";
import { federationBenchmark } from "./federation.ts";
import { federationStorageBenchmark } from "./federation-storage.ts";
import type { Benchmark } from "./harness.ts";
import { linksBenchmark } from "./links.ts";
import { mlsBenchmark } from "./mls.ts";
import { mlsFederationBenchmark } from "./mls-federation.ts";
import { protocolBenchmark } from "./protocol.ts";
import { raftBenchmark } from "./raft.ts";
import { raftSimulatorBenchmark } from "./raft-sim.ts";

/** Every benchmark `npm run bench -- NAME` knows, by name. */
export const benchmarks: readonly Benchmark[] = [
  protocolBenchmark,
  fanoutBenchmark,
  raftBenchmark,
  raftSimulatorBenchmark,
  mlsBenchmark,
  federationStorageBenchmark,
  linksBenchmark,
  federationBenchmark,
  mlsFederationBenchmark,
];
