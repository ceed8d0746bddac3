import type { ServerName } from "@parley/protocol";

/**
 * A room's server access control list. Patterns are globs over the host part
 * of a server name (the port is ignored, so one organisation cannot dodge a
 * ban by moving port): `*` matches any run of characters, `?` exactly one.
 * A server is allowed when it matches some allow pattern and no deny pattern;
 * deny wins.
 */
export interface ServerAcl {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

export const openServerAcl: ServerAcl = { allow: ["*"], deny: [] };

export function isServerAllowed(acl: ServerAcl, server: ServerName): boolean {
  const host = hostOf(server);
  if (acl.deny.some((pattern) => globMatches(pattern, host))) return false;
  return acl.allow.some((pattern) => globMatches(pattern, host));
}

/** The host part of a server name: `example.org:8448` → `example.org`, `[::1]:7001` → `[::1]`. */
export function hostOf(server: ServerName): string {
  const text: string = server;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    return close === -1 ? text : text.slice(0, close + 1);
  }
  const colon = text.lastIndexOf(":");
  return colon === -1 ? text : text.slice(0, colon);
}

/**
 * Glob matching without regular expressions, so a hostile pattern cannot
 * cause catastrophic backtracking: the classic two-pointer algorithm with one
 * remembered star, linear in practice and O(pattern × text) at worst.
 */
export function globMatches(pattern: string, text: string): boolean {
  let patternIndex = 0;
  let textIndex = 0;
  let starIndex = -1;
  let starTextIndex = 0;
  while (textIndex < text.length) {
    const patternCharacter = pattern[patternIndex];
    if (patternCharacter === "?" || patternCharacter === text[textIndex]) {
      patternIndex += 1;
      textIndex += 1;
    } else if (patternCharacter === "*") {
      starIndex = patternIndex;
      starTextIndex = textIndex;
      patternIndex += 1;
    } else if (starIndex !== -1) {
      patternIndex = starIndex + 1;
      starTextIndex += 1;
      textIndex = starTextIndex;
    } else {
      return false;
    }
  }
  while (pattern[patternIndex] === "*") patternIndex += 1;
  return patternIndex === pattern.length;
}
