import type { CertificateKeys, ServerName } from "@parley/protocol";
import type { MultiRaftHost } from "../consensus/multi-raft-host.ts";
import type { AntiEntropyTiming } from "../message-lane/anti-entropy.ts";
import { defaultAntiEntropyTiming } from "../message-lane/anti-entropy.ts";
import type { Clock } from "../message-lane/message-lane.ts";
import type { LinkStateTable } from "../routing/link-state.ts";
import type { Outbox } from "./effects.ts";
import type { FederationStorage } from "./federation-storage.ts";

/** Timers of the host, in ticks (the caller's tick, about 100 ms in Parley). */
export interface HostTiming extends AntiEntropyTiming {
  /**
   * A leaf re-sends an unanswered message submission after this long, then
   * after twice as long each time, up to eight times this. Submissions
   * travel on a reliable link, so a repeat only covers a link that dropped
   * or a sponsor that lost its state; a fixed short period would, under
   * load, send every waiting submission again and again and feed the very
   * backlog that delays the answers.
   */
  readonly submissionRetryTicks: number;
  /** A leaf gives a message submission up (outcome unknown) this long after it was sent. */
  readonly submissionTimeoutTicks: number;
  /** A control proposal without a visible outcome is reported timed out after this long. */
  readonly proposalTimeoutTicks: number;
  /** A leaf re-sends an unacknowledged attach (or a catch-up request) after this long. */
  readonly attachRetryTicks: number;
  /**
   * An attachment is soft state: a leaf repeats its attach this often even
   * when answered, so a sponsor that dropped it without the leaf noticing (a
   * link flap seen from one side only, a stale detach delivered late) feeds
   * it again within this time.
   */
  readonly attachRefreshTicks: number;
  /** A sponsor forgets a leaf that has not repeated its attach for this long (2.5 refresh periods). */
  readonly attachExpiryTicks: number;
  /**
   * A node whose group has had no leader this long asks a sponsor whether it
   * was removed (three default election timeouts: long enough that an
   * ordinary election has finished).
   */
  readonly leaderlessTicksBeforeAsking: number;
  /**
   * Every this often a server sends its own link-state advertisement to each
   * live peer, so one whose flood was lost on the way is repaired (as OSPF
   * refreshes its advertisements). A peer whose link comes up gets the whole table.
   */
  readonly linkStateRefreshTicks: number;
}

export const defaultHostTiming: HostTiming = {
  ...defaultAntiEntropyTiming,
  submissionRetryTicks: 10,
  submissionTimeoutTicks: 300,
  proposalTimeoutTicks: 100,
  attachRetryTicks: 10,
  attachRefreshTicks: 300,
  attachExpiryTicks: 750,
  leaderlessTicksBeforeAsking: 30,
  linkStateRefreshTicks: 50,
};

/** What the role modules (sponsor-role.ts, leaf-role.ts) share of the host. */
export interface HostContext {
  readonly self: ServerName;
  readonly outbox: Outbox;
  readonly raft: MultiRaftHost;
  readonly links: LinkStateTable;
  readonly liveLinks: ReadonlySet<ServerName>;
  readonly storage: FederationStorage;
  readonly clock: Clock;
  readonly timing: HostTiming;
  readonly tick: number;
  /** Signs this server's certificate signatures and checks its peers' (§12.6.1). */
  readonly keys: CertificateKeys | null;
}
