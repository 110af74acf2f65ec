// Which failed proposals may still have been appended: the gateway's outcome-unknown errors and
// its promise never to report "not applied" for something that may be applied rest on this.

import { describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { proposalMayHaveApplied } from "../../src/gateway/retry-policy.js";

describe("proposalMayHaveApplied", () => {
  it.each([
    [
      "a node's refusal marked applied=no",
      new LedgerError("UNAVAILABLE", "shard-00: no leader known; not applied, retry", { applied: "no" }),
    ],
    ["NOT_LEADER (refused before appending)", new LedgerError("NOT_LEADER", "not the leader", { leader: "node02" })],
    ["RESOURCE_EXHAUSTED (refused before appending)", new LedgerError("RESOURCE_EXHAUSTED", "queue full")],
    [
      "grpc-js had no connection to send on",
      new LedgerError("UNAVAILABLE", "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7000"),
    ],
    [
      "the deadline passed while grpc-js waited for a connection",
      new LedgerError("DEADLINE_EXCEEDED", "Deadline exceeded after 0.270s,Waiting for LB pick"),
    ],
    ["a definite error (INVALID_ARGUMENT)", new LedgerError("INVALID_ARGUMENT", "command must not be empty")],
  ])("is false for %s", (_what, error) => {
    expect(proposalMayHaveApplied(error)).toBe(false);
  });

  it.each([
    [
      "the deadline passed after the call reached a node",
      new LedgerError("DEADLINE_EXCEEDED", "Deadline exceeded after 3.001s,LB pick: 0.001s,remote_addr=127.0.0.1:7000"),
    ],
    [
      "a leader that appended and then stepped down",
      new LedgerError("UNAVAILABLE", "shard-00: node01 stopped leading; the outcome is unknown"),
    ],
    ["the connection dropped mid-call", new LedgerError("UNAVAILABLE", "Connection dropped")],
    ["the call was cancelled after sending", new LedgerError("CANCELLED", "Cancelled on client")],
  ])("is true for %s", (_what, error) => {
    expect(proposalMayHaveApplied(error)).toBe(true);
  });
});
