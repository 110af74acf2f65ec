// Relations between limits of sibling layers, which no single layer's limits.ts can assert at
// load because neither may import the other (the gateway and the node; the ledger's API rules
// and the node's queues). Each layer's own relations are asserted when its limits.ts loads.

import { describe, expect, it } from "vitest";
import { clientDeadlineMsDefault } from "../../src/client/limits.js";
import { gatewayAttemptTimeoutMs, gatewayDeadlineDefaultMs, gatewayDeadlineMsMax } from "../../src/gateway/limits.js";
import { commandTimestampBehindMsMax, createTransactionsItemsMax, pageSizeMax } from "../../src/ledger/limits.js";
import { nodePendingProposalsMax, proposalEntryBytesMax, readIndexTimeoutMs } from "../../src/node/limits.js";
import { callStreamMessageBytesMax, nodeCallDeadlineMsDefault } from "../../src/transport/limits.js";

describe("limits across layers", () => {
  it("one CreateTransactions call fits a node's proposal queue and one proposal entry", () => {
    expect(createTransactionsItemsMax).toBeLessThanOrEqual(nodePendingProposalsMax);
    // ~600 bytes an item at the field limits (see createTransactionsItemsMax).
    expect(createTransactionsItemsMax * 600).toBeLessThanOrEqual(proposalEntryBytesMax);
    expect(proposalEntryBytesMax).toBeLessThanOrEqual(callStreamMessageBytesMax);
  });

  it("a command the gateway may still be retrying is not refused as too old by a node", () => {
    expect(commandTimestampBehindMsMax).toBeGreaterThan(gatewayDeadlineMsMax);
  });

  it("the client's and the gateway's default deadlines are one budget, with room for a retry", () => {
    expect(clientDeadlineMsDefault).toBe(gatewayDeadlineDefaultMs);
    expect(gatewayAttemptTimeoutMs).toBeLessThan(nodeCallDeadlineMsDefault);
    expect(readIndexTimeoutMs).toBeLessThanOrEqual(gatewayDeadlineDefaultMs);
  });

  it("the largest page is one a reply can carry", () => {
    // A transaction record in a reply is at most a few hundred bytes.
    expect(pageSizeMax * 512).toBeLessThan(callStreamMessageBytesMax);
  });
});
