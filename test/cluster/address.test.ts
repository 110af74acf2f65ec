// host:port parsing shared by the client, the dev CLI and the cluster config.

import { describe, expect, it } from "vitest";
import { parseAddress } from "../../src/cluster/address.js";
import { LedgerError } from "../../src/base/errors.js";

describe("parseAddress", () => {
  it.each([
    ["localhost:8000", "localhost", 8000],
    ["127.0.0.1:1", "127.0.0.1", 1],
    ["ledger-1.example.com:65535", "ledger-1.example.com", 65535],
    ["[::1]:7000", "[::1]", 7000],
    ["[2001:db8::8a2e:370:7334]:443", "[2001:db8::8a2e:370:7334]", 443],
  ])("accepts %s", (text, host, port) => {
    expect(parseAddress(text)).toEqual({ host, port, text });
  });

  it.each([
    ["localhost", 'address "localhost" has no port: expected host:port'],
    ["", 'address "" has no port: expected host:port'],
    [":8000", 'address ":8000": host is empty'],
    ["localhost:", 'address "localhost:": port "" is not a number in 1..65535'],
    ["localhost:http", 'address "localhost:http": port "http" is not a number in 1..65535'],
    ["localhost:0", 'address "localhost:0": port "0" is not a number in 1..65535'],
    ["localhost:08000", 'address "localhost:08000": port "08000" is not a number in 1..65535'],
    ["localhost:65536", 'address "localhost:65536": port 65536 is out of range 1..65535'],
    ["localhost:-1", 'address "localhost:-1": port "-1" is not a number in 1..65535'],
    ["::1:8000", 'address "::1:8000" is ambiguous: write an IPv6 host in brackets, e.g. [::1]:8000'],
    ["[::1:8000", 'address "[::1:8000": host [::1 is not a valid bracketed IPv6 address'],
    ["256.0.0.1:80", 'address "256.0.0.1:80": host 256.0.0.1 is not a valid IPv4 address (octet 256 > 255)'],
    ["1.2.3:80", 'address "1.2.3:80": host 1.2.3 is not a valid IPv4 address'],
    [
      "bad_host:80",
      'address "bad_host:80": host "bad_host" is not a valid hostname or IP address (bad label "bad_host")',
    ],
    [
      "-a.example:80",
      'address "-a.example:80": host "-a.example" is not a valid hostname or IP address (bad label "-a")',
    ],
    ["http://localhost:80", 'address "http://localhost:80" is a URL: expected host:port'],
  ])("rejects %j", (text, message) => {
    let thrown: unknown;
    try {
      parseAddress(text);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(LedgerError);
    expect((thrown as LedgerError).code).toBe("INVALID_ARGUMENT");
    expect((thrown as LedgerError).message).toBe(message);
  });
});
