// LocalLedgerBackend.updateMany: every item in order with its own outcome, all in one synced
// write even behind other queued updates, and whole-call refusals given to each item.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { standaloneQueueLengthMax } from "../../src/standalone/limits.js";
import { CoreErrorCode, type CommandResult } from "../../src/gen/ledger/core/v1/core_pb.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import { LocalLedgerBackend, localBatchCommandsMax } from "../../src/standalone/local-backend.js";
import { createAccountCommand, createTransactionCommand, errorOf, transactionOf } from "../ledger/commands.js";

let dir: string;
let backend: LocalLedgerBackend;
/** Synced writes the backend made (its database's chained batches written). */
let writes: number[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "local-backend-batch-"));
  backend = await LocalLedgerBackend.open({ dataDir: join(dir, "data") });
  writes = [];
  // Count the puts of every chained batch the backend writes.
  const db = (
    backend as unknown as {
      db: { batch(): { put(k: Uint8Array, v: Uint8Array): unknown; write(o?: unknown): Promise<void> } };
    }
  ).db;
  const original = db.batch.bind(db);
  db.batch = () => {
    const batch = original();
    let puts = 0;
    const put = batch.put.bind(batch);
    batch.put = (k, v) => {
      puts++;
      return put(k, v);
    };
    const write = batch.write.bind(batch);
    batch.write = (o) => {
      writes.push(puts);
      return write(o);
    };
    return batch;
  };
});

afterEach(async () => {
  await backend.close();
  await rm(dir, { recursive: true, force: true });
});

const tx = (accountId: bigint, localId: bigint, amount: bigint) => ({
  accountId,
  command: createTransactionCommand({ accountId, localId, amount, settled: true }),
});

describe("LocalLedgerBackend.updateMany", () => {
  it("applies items in order, each with its own outcome: a refusal or INSUFFICIENT_FUNDS touches no other item", async () => {
    await backend.update(1n, createAccountCommand(1n));
    const outcomes = await backend.updateMany([tx(1n, 1n, 10n), tx(1n, 2n, -50n), tx(9n, 1n, 5n), tx(1n, 3n, -10n)]);
    expect(transactionOf(outcomes[0] as CommandResult).status).toBe(TransactionStatus.SETTLED);
    expect(transactionOf(outcomes[1] as CommandResult).status).toBe(TransactionStatus.INSUFFICIENT_FUNDS);
    errorOf(outcomes[2] as CommandResult, CoreErrorCode.NOT_FOUND);
    // Sees the first item's +10.
    expect(transactionOf(outcomes[3] as CommandResult).status).toBe(TransactionStatus.SETTLED);
  });

  it("puts a whole call in one write even when updates queued before it fill most of a group commit", async () => {
    await backend.update(1n, createAccountCommand(1n));
    writes.length = 0;
    const before = Array.from({ length: localBatchCommandsMax - 10 }, (_, i) =>
      backend.update(1n, tx(1n, BigInt(i + 1), 1n).command),
    );
    const items = Array.from({ length: 100 }, (_, i) => tx(1n, BigInt(10_000 + i), 1n));
    const [outcomes] = await Promise.all([backend.updateMany(items), ...before]);
    expect(outcomes.every((o) => !(o instanceof LedgerError))).toBe(true);
    // The first update starts the writer alone; the next group commit reaches the call's
    // items at its limit and takes the call whole rather than cut it (2 puts per transaction,
    // plus the account once per write).
    const queuedAfterFirst = localBatchCommandsMax - 10 - 1 + items.length;
    expect(writes).toEqual([2 + 1, 2 * queuedAfterFirst + 1]);
  });

  it("gives a whole-call refusal to every item: RESOURCE_EXHAUSTED naming the queue limit, DEADLINE_EXCEEDED for a passed deadline", async () => {
    const tooMany = Array.from({ length: standaloneQueueLengthMax + 1 }, (_, i) => tx(1n, BigInt(i + 1), 1n));
    const full = await backend.updateMany(tooMany);
    expect(
      full.every(
        (o) =>
          o instanceof LedgerError && o.code === "RESOURCE_EXHAUSTED" && o.message.includes("standaloneQueueLengthMax"),
      ),
    ).toBe(true);
    const late = await backend.updateMany([tx(1n, 1n, 1n), tx(1n, 2n, 1n)], { deadlineMs: Date.now() - 1 });
    expect(late.map((o) => (o as LedgerError).code)).toEqual(["DEADLINE_EXCEEDED", "DEADLINE_EXCEEDED"]);
  });
});
