import type { ServerName } from "@parley/protocol";
import type { LinkAdvertisement } from "../frames/frame.ts";
import { linkStateServersMax } from "../limits.ts";

/**
 * What one server knows about which links are up between servers: its own
 * links (from the transport's link events) and the advertisements other
 * servers flood (link-state routing, as in OSPF). Every sponsor of a room
 * computes the room's spanning tree from this table, so they agree on the
 * tree once the advertisements have spread.
 *
 * A link counts as live only when both ends advertise it. A crashed server's
 * last advertisement may linger, but its peers stop listing it, so its links
 * stop counting at once; and a one-way view (A hears B, B does not hear A)
 * never makes a link live.
 *
 * Sequences only grow: a server numbers its advertisements
 * max(previous + 1, clock), so one restarted with no memory of its last
 * sequence still supersedes it (given a clock that does not go back).
 */
export class LinkStateTable {
  readonly #self: ServerName;
  readonly #advertisements = new Map<ServerName, LinkAdvertisement>();
  readonly #peerSets = new Map<ServerName, ReadonlySet<ServerName>>();
  #version = 0;

  constructor(self: ServerName, nowMs: number) {
    this.#self = self;
    this.#store({ server: self, sequence: Math.max(1, nowMs), peers: [] });
  }

  /** Bumped on every change, so callers can cache what they compute from the table. */
  get version(): number {
    return this.#version;
  }

  /** This server's own advertisement. */
  own(): LinkAdvertisement {
    const own = this.#advertisements.get(this.#self);
    if (own === undefined) throw new Error("the table always holds its own advertisement");
    return own;
  }

  /**
   * Sets this server's live links. Returns the new advertisement to flood, or
   * null when nothing changed.
   */
  setOwnLinks(peers: Iterable<ServerName>, nowMs: number): LinkAdvertisement | null {
    const sorted = [...new Set(peers)].filter((peer) => peer !== this.#self).sort();
    const own = this.own();
    if (sameList(sorted, own.peers)) return null;
    const advertisement = {
      server: this.#self,
      sequence: Math.max(own.sequence + 1, nowMs),
      peers: sorted,
    };
    this.#store(advertisement);
    return advertisement;
  }

  /**
   * Learns another server's advertisement. Returns true if it was newer than
   * what we knew (the caller floods it on), false if stale, our own, or
   * ignored because the table is full.
   */
  learn(advertisement: LinkAdvertisement): boolean {
    if (advertisement.server === this.#self) return false;
    const known = this.#advertisements.get(advertisement.server);
    if (known !== undefined && known.sequence >= advertisement.sequence) return false;
    if (known === undefined && this.#advertisements.size >= linkStateServersMax) return false;
    this.#store(advertisement);
    return true;
  }

  /** Whether both ends of the link advertise it. */
  isLive(a: ServerName, b: ServerName): boolean {
    if (a === b) return true;
    return (this.#peerSets.get(a)?.has(b) ?? false) && (this.#peerSets.get(b)?.has(a) ?? false);
  }

  /** Every advertisement known, sorted by server (for a full sync with a new peer). */
  all(): LinkAdvertisement[] {
    return [...this.#advertisements.values()].sort((left, right) =>
      left.server < right.server ? -1 : left.server > right.server ? 1 : 0,
    );
  }

  #store(advertisement: LinkAdvertisement): void {
    this.#advertisements.set(advertisement.server, advertisement);
    this.#peerSets.set(advertisement.server, new Set(advertisement.peers));
    this.#version += 1;
  }
}

function sameList(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((item, position) => item === right[position]);
}
