// The retention sweeps: expired sessions and per-device queue items older than
// the retention age (one sweep), and KeyPackages whose lifetime ended (another,
// on its own interval, `key_packages.sweep_interval_ms`: claims never hand those
// out, but without the sweep a device that stopped refilling would keep them
// stored for good). Each call removes a bounded number of rows (one short
// transaction each); the next scheduled sweep continues where this one
// stopped. Stream events are room history and are not swept here.

import { sweepRowsMax } from "../limits.ts";
import type { HomeserverMetrics } from "../observability/metrics.ts";
import type { InboxRetention } from "../storage/records.ts";
import type { Storage } from "../storage/storage.ts";

export interface SweepResult {
  readonly sessions: number;
  readonly queueItems: number;
}

export async function sweepRetention(
  storage: Storage,
  input: { nowMs: number; retention: InboxRetention; metrics: HomeserverMetrics },
): Promise<SweepResult> {
  const sessions = await storage.devices.deleteExpiredSessions(input.nowMs, sweepRowsMax);
  const queueItems = await storage.inboxes.expireQueueItems(
    input.nowMs - input.retention.maxAgeMs,
    sweepRowsMax,
  );
  input.metrics.sweptRows.inc({ kind: "session" }, sessions);
  input.metrics.sweptRows.inc({ kind: "queue-item" }, queueItems);
  return { sessions, queueItems };
}

/** Deletes KeyPackages whose lifetime ended before `nowMs`; returns how many. */
export async function sweepKeyPackages(
  storage: Storage,
  input: { nowMs: number; metrics: HomeserverMetrics },
): Promise<number> {
  const keyPackages = await storage.keyPackages.deleteExpired(input.nowMs, sweepRowsMax);
  input.metrics.sweptRows.inc({ kind: "key-package" }, keyPackages);
  return keyPackages;
}
