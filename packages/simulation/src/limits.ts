/**
 * Every bound the simulation kit enforces, in one place, each with the reason
 * for its size. A simulator may pass tighter limits; these are the defaults
 * and the ceilings.
 */

/**
 * Events one `run*` call of the scheduler executes before it stops and says so.
 * A Raft seed of 120 simulated seconds is about 2 million events; ten times
 * that still ends within seconds, while a livelocked simulation (a timer that
 * re-arms itself at the same instant) cannot spin forever.
 */
export const schedulerEventsPerRunMax = 20_000_000;

/**
 * Cancelled events left in the heap before it is rebuilt without them. Raft
 * re-arms its election timer on every heartbeat, so most timers are
 * cancelled; rebuilding once they outnumber live events keeps the heap small.
 */
export const schedulerCancelledEventsBeforeCompaction = 1_024;

/**
 * Packets (originals, duplicates and replays) travelling at once. Past this the
 * network drops new packets with the reason "capacity", as a real link with a
 * full buffer would; TigerBeetle's packet simulator bounds each path the same way.
 */
export const networkPacketsInFlightMax = 100_000;

/**
 * Partitions and clogs active at once. The nemesis keeps at most one
 * partition; the rest is room for partitions a simulator sets by hand.
 */
export const networkPartitionsActiveMax = 64;
export const networkClogsActiveMax = 1_024;

/**
 * Trace events kept by default (the most recent ones): enough to read the last
 * moments before a failure without holding a whole run in memory.
 */
export const networkTraceEventsDefault = 2_000;

/** Ceiling on the trace a caller may ask for. */
export const networkTraceEventsMax = 10_000_000;

/** Longest fork label: labels name streams ("network", "node-3"), not data. */
export const randomLabelCharactersMax = 200;

/**
 * Search steps the linearizability checker spends on one history before it
 * answers "unknown". One step is one move of the Wing–Gong search (about
 * 0.2–1 µs), so the default is a few seconds at worst.
 */
export const linearizabilityStepsDefault = 5_000_000;

/**
 * Operations on one key the Wing–Gong search accepts: its memo keys a bitset
 * of the operations, so very long single-key histories belong in smaller runs.
 */
export const linearizabilityOperationsPerKeyMax = 100_000;

/**
 * Operations the brute-force reference checker accepts: it tries every
 * permutation, and 8! = 40,320 is the most a test should wait for.
 */
export const bruteForceOperationsMax = 8;
