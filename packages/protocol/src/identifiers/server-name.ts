import { ParleyError } from "../errors/parley-error.ts";
import { hostLabelBytesMax, hostNameBytesMax, serverNameBytesMax } from "../limits.ts";
import {
  formatIpv6,
  isCanonicalIpv4,
  isCanonicalIpv6,
  isLoopbackIpv4,
  isLoopbackIpv6,
  parseIpv6,
} from "./ip-address.ts";

declare const serverNameBrand: unique symbol;

/**
 * A homeserver's name: `host` or `host:port`, in its one canonical text form.
 * Two servers are the same server exactly when their names are equal strings.
 */
export type ServerName = string & { readonly [serverNameBrand]: true };

export type HostKind = "dns" | "ipv4" | "ipv6";

export interface ServerNameParts {
  /** The host as written in the name; an IPv6 literal without its brackets. */
  readonly host: string;
  readonly hostKind: HostKind;
  /** The explicit port, or undefined when the name has none. */
  readonly port: number | undefined;
}

const ldhLabel = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const decimalPort = /^[1-9][0-9]{0,4}$/;

/**
 * Parses a server name in canonical form; throws `bad_server_name` with the
 * reason otherwise. Nothing is normalised here: a name that is not already
 * canonical (upper case, Unicode, trailing dot, leading zeros) is refused, so
 * every implementation compares names as plain strings. `serverNameFromUserInput`
 * turns what a person typed into canonical form.
 */
export function parseServerName(text: string): ServerName {
  serverNameParts(text);
  return text as ServerName;
}

export function isServerName(text: string): text is ServerName {
  try {
    serverNameParts(text);
    return true;
  } catch {
    return false;
  }
}

/** Splits a server name into host, kind and port, validating it on the way. */
export function serverNameParts(text: string): ServerNameParts {
  if (text.length === 0) invalid(text, "it is empty");
  if (text.length > serverNameBytesMax) invalid(text, `it is longer than ${serverNameBytesMax}`);
  if (text.startsWith("[")) return bracketedIpv6Parts(text);
  const colon = text.indexOf(":");
  const host = colon === -1 ? text : text.slice(0, colon);
  const port = colon === -1 ? undefined : parsePort(text, text.slice(colon + 1));
  if (isCanonicalIpv4(host)) return { host, hostKind: "ipv4", port };
  checkDnsHost(text, host);
  return { host, hostKind: "dns", port };
}

/**
 * True when the name points at this machine (`localhost`, 127.0.0.0/8,
 * `[::1]`), the only names whose federation endpoint may use plain http.
 */
export function isLoopbackServerName(name: ServerName): boolean {
  const { host, hostKind } = serverNameParts(name);
  if (hostKind === "ipv4") return isLoopbackIpv4(host);
  if (hostKind === "ipv6") return isLoopbackIpv6(host);
  return host === "localhost";
}

function bracketedIpv6Parts(text: string): ServerNameParts {
  const close = text.indexOf("]");
  if (close === -1) invalid(text, "an IPv6 literal lacks its closing bracket");
  const host = text.slice(1, close);
  const rest = text.slice(close + 1);
  if (rest !== "" && !rest.startsWith(":")) invalid(text, "only :port may follow an IPv6 literal");
  const port = rest === "" ? undefined : parsePort(text, rest.slice(1));
  if (!isCanonicalIpv6(host)) {
    const groups = parseIpv6(host);
    const hint = groups === undefined ? "" : ` (canonical form: [${formatIpv6(groups)}])`;
    invalid(text, `not a canonical RFC 5952 IPv6 literal${hint}`);
  }
  return { host, hostKind: "ipv6", port };
}

function parsePort(text: string, port: string): number {
  if (!decimalPort.test(port))
    invalid(text, "the port is not a decimal number without leading zeros");
  const value = Number(port);
  if (value > 65535) invalid(text, "the port is above 65535");
  return value;
}

/**
 * RFC 1123 §2.1 host names in lower case, with the IDNA-safe rules of the
 * spec (docs/protocol.md §2.1): A-labels ("xn--…") are the only labels with
 * "--" in positions 3 and 4, and the last label must not read as a number,
 * since URL parsers (WHATWG) would take such a name for an IPv4 address.
 */
function checkDnsHost(text: string, host: string): void {
  if (host.length > hostNameBytesMax) invalid(text, `the host is longer than ${hostNameBytesMax}`);
  const labels = host.split(".");
  for (const label of labels) {
    if (label.length === 0) invalid(text, "it has an empty label (or a trailing dot)");
    if (label.length > hostLabelBytesMax)
      invalid(text, `a label is longer than ${hostLabelBytesMax}`);
    if (!ldhLabel.test(label)) {
      invalid(text, `label "${label}" is not lower-case letters, digits and inner hyphens`);
    }
    if (label.slice(2, 4) === "--" && !(label.startsWith("xn--") && label.length > 4)) {
      invalid(text, `label "${label}" has "--" at positions 3-4 but is not an A-label`);
    }
  }
  const last = labels[labels.length - 1] ?? "";
  if (/^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/.test(last)) {
    invalid(text, "the last label reads as a number (a URL parser would see an IPv4 address)");
  }
}

/**
 * Turns a name as a person typed it (any case, Unicode labels, a trailing
 * dot, an IPv6 literal without brackets) into canonical form, using the
 * platform's WHATWG URL parser for IDNA (UTS #46) mapping to A-labels. The
 * result is then checked by `parseServerName`. For user input only: data from
 * peers must already be canonical and goes through `parseServerName`.
 */
export function serverNameFromUserInput(input: string): ServerName {
  const text = input.trim();
  // A URL parser would read "a@b" as user info and "a/b" as a path; neither is a host.
  if (/[\s/?#@\\%]/.test(text) || text === "") {
    throw new ParleyError("bad_server_name", `"${input}" is not a host name`);
  }
  const unbracketedIpv6 = !text.startsWith("[") && (text.match(/:/g) ?? []).length > 1;
  const withBrackets = unbracketedIpv6 ? `[${text}]` : text;
  const portStart = withBrackets.lastIndexOf(":");
  const hasPort = portStart > withBrackets.lastIndexOf("]");
  const host = hasPort ? withBrackets.slice(0, portStart) : withBrackets;
  const port = hasPort ? withBrackets.slice(portStart) : "";
  let hostname: string;
  try {
    hostname = new URL(`http://${host}/`).hostname;
  } catch (cause) {
    throw new ParleyError("bad_server_name", `"${input}" is not a host name`, { cause });
  }
  return parseServerName(`${hostname.replace(/\.$/, "")}${port}`);
}

function invalid(text: string, reason: string): never {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  throw new ParleyError("bad_server_name", `"${shown}" is not a server name: ${reason}`);
}
