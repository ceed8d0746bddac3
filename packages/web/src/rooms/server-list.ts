// The "through servers" field of the join dialog: the servers a person names
// for reaching a room their own server does not know yet (docs/protocol.md
// §10.3, `via`), separated by commas or spaces.

import { ParleyError, parseServerName } from "@parley/protocol";

/** The server accepts at most this many `via` names (§10.3). */
export const viaServersMax = 8;

/** Parses the field into server names; empty text is no servers. Throws `bad_server_name`. */
export function parseServerList(text: string): string[] {
  const names = text.split(/[\s,]+/).filter((name) => name !== "");
  if (names.length > viaServersMax) {
    throw new ParleyError("bad_server_name", `at most ${viaServersMax} servers may be named`);
  }
  return [...new Set(names.map((name) => parseServerName(name.toLowerCase())))];
}
