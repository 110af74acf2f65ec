// Ids derived from request ids: stable across calls and processes, distinct per domain, and
// transaction ids scoped to their account.

import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { accountIdFromRequestId, transactionLocalIdFromRequestId } from "../../src/gateway/request-ids.js";

describe("request-derived ids", () => {
  it("are deterministic and differ between request ids", () => {
    expect(accountIdFromRequestId("a")).toBe(accountIdFromRequestId("a"));
    expect(accountIdFromRequestId("a")).not.toBe(accountIdFromRequestId("b"));
    expect(transactionLocalIdFromRequestId(5n, "a")).toBe(transactionLocalIdFromRequestId(5n, "a"));
  });

  it("are the first 8 bytes of a domain-separated SHA-256, not of the bare request id", () => {
    const bare = createHash("sha256").update("order-1").digest().readBigUInt64BE(0);
    expect(accountIdFromRequestId("order-1")).not.toBe(bare);
    expect(accountIdFromRequestId("order-1")).toBeLessThan(1n << 64n);
  });

  it("scope transaction ids to the account, and keep account and transaction domains apart", () => {
    expect(transactionLocalIdFromRequestId(1n, "r")).not.toBe(transactionLocalIdFromRequestId(2n, "r"));
    expect(transactionLocalIdFromRequestId(0n, "r")).not.toBe(accountIdFromRequestId("r"));
  });
});
