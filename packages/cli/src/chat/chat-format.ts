// How `parley chat` writes things: one line per message with its time, room
// and sender, and a mark on this user's own messages for its delivery state.
// Pure: the terminal code only decides where the lines go.

import type { DeliveryProgress, DeliveryState } from "@parley/client";

/** The counts after a mark, once the server reported them (docs/protocol.md §10.14). */
function progressText(progress: DeliveryProgress | undefined): string {
  if (progress === undefined) return "";
  const { servers, devices, refusedBy } = progress;
  const refusals = refusedBy.map((refusal) => ` ! refused by ${refusal.server} (${refusal.code})`);
  return ` ${servers.delivered}/${servers.total} servers, ${devices.delivered}/${devices.total} devices${refusals.join("")}`;
}

/** The mark after an own message (the README's legend). */
export function deliveryMark(state: DeliveryState): string {
  switch (state.status) {
    case "pending":
      return "…";
    case "accepted":
      return `✓${progressText(state.progress)}`;
    case "delivered":
      return `✓✓${progressText(state.progress)}`;
    case "failed":
      return `! ${state.error.code}: ${state.error.message} (/retry)`;
  }
}

/** HH:MM in the local time zone. */
export function clockTime(timeMs: number): string {
  const date = new Date(timeMs);
  return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
}

/**
 * Control characters in text from other users are shown as visible escapes,
 * so nobody can move the cursor, clear the screen or fake a line of ours.
 */
export function printable(text: string): string {
  let shown = "";
  for (const character of text) {
    const code = character.codePointAt(0) ?? 0;
    if (character === "\n") shown += "\n      ";
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f))
      shown += `\\x${code.toString(16).padStart(2, "0")}`;
    else shown += character;
  }
  return shown;
}

export function messageLine(input: {
  readonly timeMs: number;
  readonly room: string;
  readonly sender: string;
  readonly text: string;
  readonly mark?: string;
}): string {
  const mark = input.mark === undefined ? "" : `  ${input.mark}`;
  return `${clockTime(input.timeMs)} ${input.room} <${input.sender}> ${printable(input.text)}${mark}`;
}

/** A notice from parley itself (connection, membership, results of commands). */
export function noticeLine(text: string): string {
  return `* ${printable(text)}`;
}
