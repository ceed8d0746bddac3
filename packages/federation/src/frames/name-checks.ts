import { isServerName, isUserId, parseDeviceId, parseRoomId } from "@parley/protocol";
import { isSponsorNodeId } from "../identity/sponsor-node-id.ts";

/**
 * Checking a name costs more than decoding it, and frames repeat the same few
 * names (a room's sponsors, its members) over and over. These checks remember
 * names that passed, in bounded sets emptied when full. Only valid names are
 * remembered, and validity never changes, so a remembered answer is always right.
 */
const rememberedMax = 4096;

function remembering(check: (text: string) => boolean): (value: unknown) => boolean {
  const valid = new Set<string>();
  return (value: unknown): boolean => {
    if (typeof value !== "string") return false;
    if (valid.has(value)) return true;
    if (!check(value)) return false;
    if (valid.size >= rememberedMax) valid.clear();
    valid.add(value);
    return true;
  };
}

export const isValidServerName = remembering(isServerName);
export const isValidUserId = remembering(isUserId);
export const isValidNodeId = remembering(isSponsorNodeId);
export const isValidRoomId = remembering((text) => {
  try {
    parseRoomId(text);
    return true;
  } catch {
    return false;
  }
});
export const isValidDeviceId = remembering((text) => {
  try {
    parseDeviceId(text);
    return true;
  } catch {
    return false;
  }
});
