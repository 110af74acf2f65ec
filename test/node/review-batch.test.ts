// Review of the batched path (issue 6), storage/standalone side.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ledgerPrefetchSyncKeysMax } from "../../src/storage/limits.js";
import { CoreErrorCode, type CommandResult } from "../../src/gen/ledger/core/v1/core_pb.js";
import { LocalLedgerBackend } from "../../src/standalone/local-backend.js";
import { createAccountCommand, createTransactionCommand, errorOf, transactionOf } from "../ledger/commands.js";

let dir: string;
let backend: LocalLedgerBackend;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "review-batch-"));
  backend = await LocalLedgerBackend.open({ dataDir: join(dir, "data") });
});

afterEach(async () => {
  await backend.close();
  await rm(dir, { recursive: true, force: true });
});

describe("review: duplicates inside one large batch", () => {
  // GUARD (passes; verified correct, not covered elsewhere): a batch large enough that the
  // store's prefetch takes its asynchronous getMany path (more than ledgerPrefetchSyncKeysMax
  // keys, src/storage/ledger-store.ts prefetch) and holding the same transaction id (same
  // request_id, hence same local id) twice with the same content and once with other content:
  // the first creates it, the repeat is the same transaction applied once, the different one is
  // FAILED_PRECONDITION, and the balance counts the amount once. node-batch.test.ts covers
  // duplicates only in a small batch (the synchronous getSync path).
  it("a batch over the getMany threshold with a repeated create applies it once and refuses the conflicting one", async () => {
    await backend.update(1n, createAccountCommand(1n));
    const count = ledgerPrefetchSyncKeysMax + 20;
    const item = (localId: bigint, amount: bigint, requestId = "") => ({
      accountId: 1n,
      command: createTransactionCommand({ accountId: 1n, localId, amount, settled: true, requestId }),
    });
    const items = Array.from({ length: count }, (_, i) => item(BigInt(i + 1), 1n));
    items[10] = item(5_000n, 7n, "dup");
    items[count - 2] = item(5_000n, 7n, "dup");
    items[count - 1] = item(5_000n, 8n, "dup");
    const outcomes = await backend.updateMany(items);
    const first = transactionOf(outcomes[10] as CommandResult);
    const again = transactionOf(outcomes[count - 2] as CommandResult);
    expect(again).toEqual(first);
    errorOf(outcomes[count - 1] as CommandResult, CoreErrorCode.FAILED_PRECONDITION);
    const created = count - 3; // items of amount 1, plus the one amount-7 transaction
    const account = await backend.query(1n, {
      $typeName: "ledger.core.v1.Query",
      kind: { case: "getAccount", value: { $typeName: "ledger.core.v1.GetAccount", accountId: 1n } },
    });
    if (account.kind.case !== "account") throw new Error(`expected an account, got ${String(account.kind.case)}`);
    expect(account.kind.value.settledBalance).toBe(BigInt(created) + 7n);
    expect(account.kind.value.transactionCount).toBe(BigInt(created + 1));
  });
});
