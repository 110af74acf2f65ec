// LocalLedgerBackend: group commit through one ordered writer on a real LevelDB in a temp dir;
// updateMany: every item in order with its own outcome, all in one synced write even behind other
// queued updates, and whole-call refusals given to each item.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { standaloneQueueLengthMax } from "../../src/standalone/limits.js";
import { ledgerPrefetchSyncKeysMax } from "../../src/storage/limits.js";
import {
  CoreErrorCode,
  QuerySchema,
  type CommandResult,
  type QueryResult,
  type TransactionPage,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import { LocalLedgerBackend, localBatchCommandsMax } from "../../src/standalone/local-backend.js";
import {
  accountOf,
  createAccountCommand,
  createTransactionCommand,
  errorOf,
  settleCommand,
  transactionOf,
} from "../ledger/commands.js";
import { ledgerRejection as rejection } from "../support/rejection.js";

let dir: string;
const opened: LocalLedgerBackend[] = [];

async function openBackend(logger?: pino.Logger): Promise<LocalLedgerBackend> {
  const backend = await LocalLedgerBackend.open(
    logger === undefined ? { dataDir: join(dir, "nested", "data") } : { dataDir: join(dir, "nested", "data"), logger },
  );
  opened.push(backend);
  return backend;
}

function getAccount(backend: LocalLedgerBackend, accountId: bigint): Promise<QueryResult> {
  return backend.query(accountId, create(QuerySchema, { kind: { case: "getAccount", value: { accountId } } }));
}

async function listAll(backend: LocalLedgerBackend, accountId: bigint): Promise<TransactionPage["transactions"]> {
  const result = await backend.query(
    accountId,
    create(QuerySchema, { kind: { case: "listTransactions", value: { accountId, afterSeq: 0n, limit: 1000 } } }),
  );
  expect(result.kind.case).toBe("page");
  const page = result.kind.value as TransactionPage;
  expect(page.nextAfterSeq).toBe(0n);
  return page.transactions;
}

/** Counts the puts of every chained batch `backend` writes, one number per write, in order. */
function countWrites(backend: LocalLedgerBackend): number[] {
  const writes: number[] = [];
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
  return writes;
}

/** An updateMany item: a settled transaction of `amount` on `accountId`. */
const tx = (accountId: bigint, localId: bigint, amount: bigint) => ({
  accountId,
  command: createTransactionCommand({ accountId, localId, amount, settled: true }),
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "local-backend-"));
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
  await rm(dir, { recursive: true, force: true });
});

describe("LocalLedgerBackend", () => {
  it("concurrent updates all apply exactly once and balances equal the fold of the transactions", async () => {
    const backend = await openBackend();
    const accounts = [0x01n, 0x02n, 0x03n];
    await Promise.all(accounts.map((id) => backend.update(id, createAccountCommand(id))));
    const calls: Promise<CommandResult>[] = [];
    for (let i = 0; i < 900; i++) {
      const accountId = accounts[i % 3]!;
      const amount = i % 4 === 3 ? -BigInt(1 + (i % 13)) : BigInt(1 + (i % 17));
      calls.push(
        backend.update(
          accountId,
          createTransactionCommand({ accountId, localId: BigInt(i), amount, settled: i % 5 !== 0 }),
        ),
      );
    }
    const results = await Promise.all(calls);
    expect(results.every((r) => r.kind.case === "transaction")).toBe(true);
    for (const accountId of accounts) {
      const transactions = await listAll(backend, accountId);
      expect(transactions).toHaveLength(300);
      expect(new Set(transactions.map((t) => t.localId)).size).toBe(300);
      let available = 0n;
      let settled = 0n;
      for (const t of transactions) {
        if (t.status === TransactionStatus.SETTLED) [available, settled] = [available + t.amount, settled + t.amount];
        if (t.status === TransactionStatus.PENDING && t.amount < 0n) available += t.amount;
      }
      const account = accountOf(await getAccount(backend, accountId));
      expect([account.availableBalance, account.settledBalance]).toEqual([available, settled]);
      expect(account.transactionCount).toBe(300n);
    }
  });

  it("more pending updates than the queue limit are refused with RESOURCE_EXHAUSTED naming the limit; the accepted ones apply", async () => {
    const backend = await openBackend();
    const accountId = 0x77n;
    await backend.update(accountId, createAccountCommand(accountId));
    const total = standaloneQueueLengthMax + localBatchCommandsMax + 10;
    const calls = Array.from({ length: total }, (_, i) =>
      backend
        .update(accountId, createTransactionCommand({ accountId, localId: BigInt(i + 1), amount: 1n, settled: true }))
        .then(
          () => "applied" as const,
          (e: unknown) => e,
        ),
    );
    const outcomes = await Promise.all(calls);
    const applied = outcomes.filter((o) => o === "applied").length;
    const refused = outcomes.filter((o): o is LedgerError => o instanceof LedgerError);
    expect(applied + refused.length).toBe(total);
    expect(refused.length).toBeGreaterThan(0);
    expect(
      refused.every((e) => e.code === "RESOURCE_EXHAUSTED" && e.message.includes(String(standaloneQueueLengthMax))),
    ).toBe(true);
    // The queue holds the limit; at most one batch had already left it for the writer.
    expect(applied).toBeGreaterThanOrEqual(standaloneQueueLengthMax);
    expect(applied).toBeLessThanOrEqual(standaloneQueueLengthMax + localBatchCommandsMax);
    expect(accountOf(await getAccount(backend, accountId)).availableBalance).toBe(BigInt(applied));
  });

  it("close drains the queued updates, answers every caller and the data survives a reopen", async () => {
    const backend = await openBackend();
    const accountId = 0xabcn;
    const created = backend.update(accountId, createAccountCommand(accountId));
    const calls = Array.from({ length: 50 }, (_, i) =>
      backend.update(
        accountId,
        createTransactionCommand({ accountId, localId: BigInt(i), amount: 2n, settled: false }),
      ),
    );
    await backend.close();
    await created;
    const results = await Promise.all(calls);
    expect(results.map((r) => transactionOf(r).status)).toEqual(Array(50).fill(TransactionStatus.PENDING));
    expect((await rejection(backend.update(accountId, settleCommand(accountId, 1n)))).code).toBe("UNAVAILABLE");
    expect((await rejection(getAccount(backend, accountId))).code).toBe("UNAVAILABLE");

    const reopened = await openBackend();
    expect(await listAll(reopened, accountId)).toHaveLength(50);
    expect(transactionOf(await reopened.update(accountId, settleCommand(accountId, 3n))).status).toBe(
      TransactionStatus.SETTLED,
    );
    expect(accountOf(await getAccount(reopened, accountId)).settledBalance).toBe(2n);
  });

  it("an update whose deadline already passed is refused with DEADLINE_EXCEEDED and not applied", async () => {
    const backend = await openBackend();
    const accountId = 0x5n;
    const error = await rejection(
      backend.update(accountId, createAccountCommand(accountId), { deadlineMs: Date.now() - 1 }),
    );
    expect(error.code).toBe("DEADLINE_EXCEEDED");
    expect((await getAccount(backend, accountId)).kind.case).toBe("error");
  });

  it("a command that breaks a core assertion fails alone with INTERNAL; the rest of its batch commits", async () => {
    const backend = await openBackend();
    const accountId = 0x9n;
    await backend.update(accountId, createAccountCommand(accountId));
    const good1 = backend.update(
      accountId,
      createTransactionCommand({ accountId, localId: 1n, amount: 10n, settled: true }),
    );
    const bad = backend.update(
      accountId,
      createTransactionCommand({ accountId, localId: 2n, amount: 0n, settled: true }),
    );
    const good2 = backend.update(
      accountId,
      createTransactionCommand({ accountId, localId: 3n, amount: 5n, settled: true }),
    );
    expect((await rejection(bad)).code).toBe("INTERNAL");
    expect(transactionOf(await good1).seq).toBe(1n);
    expect(transactionOf(await good2).seq).toBe(2n);
    expect(accountOf(await getAccount(backend, accountId)).availableBalance).toBe(15n);
  });

  it("a failed batch write rejects its callers with UNAVAILABLE, logs, leaves no partial state, and later updates work", async () => {
    const lines: string[] = [];
    const backend = await openBackend(pino({ level: "error" }, { write: (line: string) => void lines.push(line) }));
    const accountId = 0x42n;
    await backend.update(accountId, createAccountCommand(accountId));
    // Make chained batches fail at write time, as a disk error would, until restored.
    const db = Reflect.get(backend, "db") as { batch: () => { write: (o: unknown) => Promise<void> } };
    const realBatch = db.batch.bind(db);
    db.batch = () => {
      const batch = realBatch();
      batch.write = async () => {
        throw new Error("simulated disk failure");
      };
      return batch;
    };
    const failed = [1n, 2n].map((localId) =>
      backend.update(accountId, createTransactionCommand({ accountId, localId, amount: 10n, settled: true })),
    );
    for (const call of failed) expect((await rejection(call)).code).toBe("UNAVAILABLE");
    db.batch = realBatch;
    expect(lines.some((l) => l.includes("writing a ledger batch failed") && l.includes("simulated disk failure"))).toBe(
      true,
    );
    const account = accountOf(await getAccount(backend, accountId));
    expect([account.availableBalance, account.transactionCount]).toEqual([0n, 0n]);
    expect(
      transactionOf(
        await backend.update(
          accountId,
          createTransactionCommand({ accountId, localId: 1n, amount: 10n, settled: true }),
        ),
      ).seq,
    ).toBe(1n);
  });
});

describe("LocalLedgerBackend.updateMany", () => {
  it("applies items in order, each with its own outcome: a refusal or INSUFFICIENT_FUNDS touches no other item", async () => {
    const backend = await openBackend();
    await backend.update(1n, createAccountCommand(1n));
    const outcomes = await backend.updateMany([tx(1n, 1n, 10n), tx(1n, 2n, -50n), tx(9n, 1n, 5n), tx(1n, 3n, -10n)]);
    expect(transactionOf(outcomes[0] as CommandResult).status).toBe(TransactionStatus.SETTLED);
    expect(transactionOf(outcomes[1] as CommandResult).status).toBe(TransactionStatus.INSUFFICIENT_FUNDS);
    errorOf(outcomes[2] as CommandResult, CoreErrorCode.NOT_FOUND);
    // Sees the first item's +10.
    expect(transactionOf(outcomes[3] as CommandResult).status).toBe(TransactionStatus.SETTLED);
  });

  it("puts a whole call in one write even when updates queued before it fill most of a group commit", async () => {
    const backend = await openBackend();
    const writes = countWrites(backend);
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
    const backend = await openBackend();
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

  // Past ledgerPrefetchSyncKeysMax keys the store's prefetch reads asynchronously (getMany, in
  // src/storage/ledger-store.ts) rather than with getSync: duplicates inside such a call must come
  // out as in a small one.
  it("applies a transaction created twice in a call over the prefetch's getMany threshold once, and refuses a conflicting create of the same id", async () => {
    const backend = await openBackend();
    await backend.update(1n, createAccountCommand(1n));
    const count = ledgerPrefetchSyncKeysMax + 20;
    // The same request_id, hence the same transaction id: twice with the same content, once with other content.
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
    const account = accountOf(await getAccount(backend, 1n));
    expect(account.settledBalance).toBe(BigInt(created) + 7n);
    expect(account.transactionCount).toBe(BigInt(created + 1));
  });
});
