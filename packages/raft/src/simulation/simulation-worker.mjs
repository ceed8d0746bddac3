// Starts a simulator worker thread. Plain JavaScript on purpose: a worker
// thread does not inherit the TypeScript loader the parent runs under (tsx
// or vitest), so it registers tsx's loader itself, then loads the worker.
import { register } from "tsx/esm/api";

register();
await import("./simulation-worker.ts");
