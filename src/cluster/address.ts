// Network addresses of the form host:port, as written in cluster_config.json and given to the
// client and the dev CLI. Parsed strictly so a typo fails at startup with a message naming the
// exact problem instead of as a vague connection error later. It lives here (not in src/client)
// because the cluster config needs it and src/cluster sits below src/client.

import { LedgerError } from "../base/errors.js";

export interface Address {
  host: string;
  port: number;
  /** host:port as grpc-js expects it (IPv6 hosts bracketed). */
  text: string;
}

const portMax = 65_535;
const hostnameCharsMax = 253; // RFC 1035 limit for a full domain name
const labelPattern = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const ipv4Pattern = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const ipv6Pattern = /^[0-9A-Fa-f:.]+$/;

/** Why `host` is not a hostname, IPv4 or bracketed IPv6 literal; undefined when it is valid. */
function hostProblem(host: string): string | undefined {
  if (host === "") return "host is empty";
  if (host.startsWith("[")) {
    const inner = host.endsWith("]") ? host.slice(1, -1) : undefined;
    if (inner === undefined || !ipv6Pattern.test(inner) || !inner.includes(":")) {
      return `host ${host} is not a valid bracketed IPv6 address`;
    }
    return undefined;
  }
  const v4 = ipv4Pattern.exec(host);
  if (v4) {
    const bad = v4.slice(1).find((octet) => Number(octet) > 255);
    return bad === undefined ? undefined : `host ${host} is not a valid IPv4 address (octet ${bad} > 255)`;
  }
  if (host.length > hostnameCharsMax) return `host is longer than ${hostnameCharsMax} characters`;
  const badLabel = host.split(".").find((label) => !labelPattern.test(label));
  if (badLabel !== undefined) {
    return `host "${host}" is not a valid hostname or IP address (bad label "${badLabel}")`;
  }
  if (/^[0-9.]+$/.test(host)) return `host ${host} is not a valid IPv4 address`;
  return undefined;
}

/** Why `text` is not a valid host:port; undefined when it is valid. */
export function addressProblem(text: string): string | undefined {
  if (text.includes("://")) return `address "${text}" is a URL: expected host:port`;
  const colon = text.lastIndexOf(":");
  if (colon < 0) return `address "${text}" has no port: expected host:port`;
  const host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!host.startsWith("[") && host.includes(":")) {
    return `address "${text}" is ambiguous: write an IPv6 host in brackets, e.g. [::1]:8000`;
  }
  const problem = hostProblem(host);
  if (problem !== undefined) return `address "${text}": ${problem}`;
  // No leading zeros: "7000" and "07000" must not look like two different addresses.
  if (!/^[1-9]\d{0,4}$/.test(portText)) return `address "${text}": port "${portText}" is not a number in 1..${portMax}`;
  const port = Number(portText);
  if (port < 1 || port > portMax) return `address "${text}": port ${port} is out of range 1..${portMax}`;
  return undefined;
}

/** Parses host:port; throws INVALID_ARGUMENT naming the exact problem. */
export function parseAddress(text: string): Address {
  const problem = addressProblem(text);
  if (problem !== undefined) throw new LedgerError("INVALID_ARGUMENT", problem);
  const colon = text.lastIndexOf(":");
  return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)), text };
}
