/**
 * IP address literals as they may appear in server names. Only canonical text
 * is accepted, so that one address has one name: dotted-quad IPv4 without
 * leading zeros, and IPv6 in the RFC 5952 §4 form (lower case, no leading
 * zeros, the longest run of two or more zero groups shortened to "::", the
 * first such run on a tie, no embedded dotted quad, no zone id).
 */

const ipv4Octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const canonicalIpv4 = new RegExp(`^${ipv4Octet}(?:\\.${ipv4Octet}){3}$`);

export function isCanonicalIpv4(text: string): boolean {
  return canonicalIpv4.test(text);
}

/** True for 127.0.0.0/8, the IPv4 loopback block (RFC 1122 §3.2.1.3). */
export function isLoopbackIpv4(text: string): boolean {
  return isCanonicalIpv4(text) && text.startsWith("127.");
}

/**
 * Parses IPv6 text (RFC 4291 §2.2, including an embedded dotted quad) into
 * eight 16-bit groups, or returns undefined. Accepts non-canonical forms so
 * that callers can tell "not an address" from "not written canonically".
 */
export function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "", true) : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** One side of "::" (or the whole address); a dotted quad may only end the address. */
function parseGroups(text: string, mayEndWithIpv4: boolean): number[] | undefined {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  for (const [index, part] of parts.entries()) {
    const isLast = index === parts.length - 1;
    if (isLast && mayEndWithIpv4 && part.includes(".")) {
      if (!isCanonicalIpv4(part)) return undefined;
      const octets = part.split(".").map(Number);
      groups.push(
        ((octets[0] ?? 0) << 8) | (octets[1] ?? 0),
        ((octets[2] ?? 0) << 8) | (octets[3] ?? 0),
      );
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(Number.parseInt(part, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** RFC 5952 §4 text of eight 16-bit groups. */
export function formatIpv6(groups: readonly number[]): string {
  const run = longestZeroRun(groups);
  const hex = groups.map((group) => group.toString(16));
  if (run.length < 2) return hex.join(":");
  const before = hex.slice(0, run.start).join(":");
  const after = hex.slice(run.start + run.length).join(":");
  return `${before}::${after}`;
}

function longestZeroRun(groups: readonly number[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = 0;
  for (let index = 0; index <= groups.length; index += 1) {
    if (index < groups.length && groups[index] === 0) continue;
    const length = index - start;
    if (length > best.length) best = { start, length };
    start = index + 1;
  }
  return best;
}

export function isCanonicalIpv6(text: string): boolean {
  const groups = parseIpv6(text);
  return groups !== undefined && formatIpv6(groups) === text;
}

export function isLoopbackIpv6(text: string): boolean {
  return text === "::1";
}
