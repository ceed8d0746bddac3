import type { ServerName } from "@parley/protocol";
import type { LinkStateFrame } from "../frames/frame.ts";
import { linkStateAdvertisementsPerFrameMax } from "../limits.ts";
import type { HostContext } from "./host-context.ts";

/** Publishes this server's advertisement to every live peer when its set of up links changed. */
export function advertiseOwnLinks(context: HostContext): void {
  const advertisement = context.links.setOwnLinks(context.liveLinks, context.clock.nowMs());
  if (advertisement === null) return;
  for (const peer of context.liveLinks) {
    context.outbox.send(peer, { type: "link-state", advertisements: [advertisement] });
  }
}

/** The whole table, to a peer whose link just came up. */
export function sendLinkStateTable(context: HostContext, peer: ServerName): void {
  const all = context.links.all();
  for (let start = 0; start < all.length; start += linkStateAdvertisementsPerFrameMax) {
    const advertisements = all.slice(start, start + linkStateAdvertisementsPerFrameMax);
    context.outbox.send(peer, { type: "link-state", advertisements });
  }
}

/**
 * Every refresh period: our own advertisement only, to every live peer. A
 * peer that missed a flood of it learns it again and floods it on. (The whole
 * table goes to a peer whose link comes up.)
 */
export function refreshOwnAdvertisement(context: HostContext): void {
  if (context.tick % context.timing.linkStateRefreshTicks !== 0) return;
  const advertisements = [context.links.own()];
  for (const peer of context.liveLinks) {
    context.outbox.send(peer, { type: "link-state", advertisements });
  }
}

/** Learns advertisements and floods the new ones on to every other live peer. */
export function receiveLinkState(
  context: HostContext,
  peer: ServerName,
  frame: LinkStateFrame,
): void {
  const fresh = frame.advertisements.filter((advertisement) => context.links.learn(advertisement));
  if (fresh.length === 0) return;
  for (const other of context.liveLinks) {
    if (other !== peer) context.outbox.send(other, { type: "link-state", advertisements: fresh });
  }
}
