// CreateTransactions against the standalone server as a real process, through the typed client:
// one outcome per item in order, invalid items failing alone, idempotent retries of a whole call,
// the whole-call limit, and the batch's effects durable across a SIGKILL.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { createTransactionsItemsMax } from "../../src/ledger/limits.js";
import type { CreateTransactionOutcome } from "../../src/client/index.js";
import { TransactionStatus, type Transaction } from "../../src/gen/ledger/v1/ledger_pb.js";
import { autoCleanup } from "../support/cleanup.js";
import { ledgerRejection as rejection } from "../support/rejection.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { balancesOf, createAccount, startStandalone, type RunningStandalone } from "./standalone-server.js";

autoCleanup("all");

function transactionOf(o: CreateTransactionOutcome | undefined): Transaction {
  if (o?.transaction === undefined) throw new Error(`expected a transaction, got ${JSON.stringify(o?.error)}`);
  return o.transaction;
}

describe("standalone server: CreateTransactions", () => {
  let dataDir: string;
  let server: RunningStandalone;

  beforeAll(async () => {
    dataDir = join(await makeTempDir("standalone-batched-"), "data");
    server = await startStandalone(dataDir);
  });

  afterAll(() => server?.client.close());

  it("applies each item independently, in order, with its own outcome; a retry of the same call applies nothing twice; the effects survive a SIGKILL", async () => {
    const { client } = server;
    const a = (await createAccount(client)).id;
    const b = (await createAccount(client)).id;
    const items = [
      { accountId: a, amount: 100n, settled: true, requestId: "a-1" },
      { accountId: b, amount: -1n, settled: true, requestId: "b-1" }, // INSUFFICIENT_FUNDS
      { accountId: "nope", amount: 5n }, // invalid: fails alone
      { accountId: a, amount: -30n, settled: false, requestId: "a-2" }, // sees a-1: pending purchase
      { accountId: "00000000000000ff", amount: 5n, settled: true }, // NOT_FOUND
    ];
    const outcomes = await client.createTransactions(items);
    expect(outcomes).toHaveLength(items.length);
    expect(transactionOf(outcomes[0]).status).toBe(TransactionStatus.SETTLED);
    expect(transactionOf(outcomes[1]).status).toBe(TransactionStatus.INSUFFICIENT_FUNDS);
    expect(outcomes[2]?.error?.code).toBe("INVALID_ARGUMENT");
    expect(outcomes[2]?.error?.message).toMatch(/^transactions\[2\]\.account_id /);
    expect(transactionOf(outcomes[3]).status).toBe(TransactionStatus.PENDING);
    expect(outcomes[4]?.error?.code).toBe("NOT_FOUND");
    expect(await balancesOf(client, a)).toEqual([70n, 100n]);

    const again = await client.createTransactions(items);
    for (const i of [0, 1, 3]) expect(transactionOf(again[i])).toEqual(transactionOf(outcomes[i]));
    expect(await balancesOf(client, a)).toEqual([70n, 100n]);
    // The same request through CreateTransaction is the same transaction.
    expect(await client.createTransaction(items[0]!)).toEqual(transactionOf(outcomes[0]));

    await server.process.kill();
    server.client.close();
    server = await startStandalone(dataDir);
    expect(await balancesOf(server.client, a)).toEqual([70n, 100n]);
    expect(await server.client.getTransaction(transactionOf(outcomes[3]).id)).toEqual(transactionOf(outcomes[3]));
  });

  it("takes createTransactionsItemsMax items in one call and refuses one more with INVALID_ARGUMENT naming transactions", async () => {
    const { client } = server;
    const a = (await createAccount(client)).id;
    const full = Array.from({ length: createTransactionsItemsMax }, () => ({
      accountId: a,
      amount: 1n,
      settled: true,
    }));
    const outcomes = await client.createTransactions(full);
    expect(outcomes.every((o) => o.transaction?.status === TransactionStatus.SETTLED)).toBe(true);
    expect(await balancesOf(client, a)).toEqual([
      BigInt(createTransactionsItemsMax),
      BigInt(createTransactionsItemsMax),
    ]);
    const e = await rejection(client.createTransactions([...full, full[0]!]));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/^transactions must hold 1 to 1000 items/);
    const none = await rejection(client.createTransactions([]));
    expect(none.code).toBe("INVALID_ARGUMENT");
  });
});
