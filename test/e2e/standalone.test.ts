// The standalone server as a real process driven over gRPC: the ledger rules, idempotency and
// paging over the wire, CreateTransactions (one outcome per item in order, invalid items failing
// alone, idempotent retries of a whole call, the whole-call limit), durability across a SIGKILL,
// and the process's start-up and shutdown behaviour. The tests of the first block share one
// server and one data dir, and the last of them checks that everything the earlier ones created
// survived a crash.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { CreateTransactionOutcome } from "../../src/client/index.js";
import { TransactionStatus, type Account, type Transaction } from "../../src/gen/ledger/v1/ledger_pb.js";
import type { LedgerError } from "../../src/base/errors.js";
import { createTransactionsItemsMax } from "../../src/ledger/limits.js";
import { autoCleanup } from "../support/cleanup.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { startTsProcess } from "../support/processes.js";
import {
  balancesOf,
  createAccount,
  createTransaction,
  getAccount,
  getTransaction,
  listAll,
  startStandalone,
  type RunningStandalone,
} from "./standalone-server.js";
import { ledgerRejection as rejection } from "../support/rejection.js";

autoCleanup("all");

function transactionOf(o: CreateTransactionOutcome | undefined): Transaction {
  if (o?.transaction === undefined) throw new Error(`expected a transaction, got ${JSON.stringify(o?.error)}`);
  return o.transaction;
}

describe("standalone server over gRPC", () => {
  let dataDir: string;
  let server: RunningStandalone;
  /** Every account created here, checked after the crash and restart. */
  const accountIds = new Set<string>();

  beforeAll(async () => {
    dataDir = join(await makeTempDir("standalone-e2e-"), "data");
    server = await startStandalone(dataDir);
  });

  afterAll(() => server?.client.close());

  async function newAccount(requestId = ""): Promise<Account> {
    const account = await createAccount(server.client, requestId);
    accountIds.add(account.id);
    return account;
  }

  it("scenario 1: balances (0,0), then (90,100) after topup +100 and pending -10, then (90,90) after settling", async () => {
    const { client } = server;
    const account = await newAccount();
    expect(await balancesOf(client, account.id)).toEqual([0n, 0n]);
    await createTransaction(client, account.id, { amount: 100n, settled: true, description: "topup" });
    const purchase = await createTransaction(client, account.id, {
      amount: -10n,
      settled: false,
      description: "purchase",
    });
    expect(purchase.status).toBe(TransactionStatus.PENDING);
    expect(await balancesOf(client, account.id)).toEqual([90n, 100n]);
    const transaction = await client.settleTransaction(purchase.id);
    expect(transaction!.status).toBe(TransactionStatus.SETTLED);
    expect(await balancesOf(client, account.id)).toEqual([90n, 90n]);
  });

  it("records a purchase of -1000 on a small balance with status INSUFFICIENT_FUNDS", async () => {
    const { client } = server;
    const account = await newAccount();
    await createTransaction(client, account.id, { amount: 100n, settled: true });
    const purchase = await createTransaction(client, account.id, { amount: -1000n, settled: true });
    expect(purchase.status).toBe(TransactionStatus.INSUFFICIENT_FUNDS);
    expect(await getTransaction(client, purchase.id)).toEqual(purchase);
    expect(await balancesOf(client, account.id)).toEqual([100n, 100n]);
  });

  it("makes creates idempotent by request_id and refuses a reused request_id with different content", async () => {
    const { client } = server;
    const account = await newAccount("e2e-account-1");
    expect((await newAccount("e2e-account-1")).id).toBe(account.id);

    const first = await createTransaction(client, account.id, { amount: 25n, settled: true, requestId: "e2e-order-1" });
    const retry = await createTransaction(client, account.id, { amount: 25n, settled: true, requestId: "e2e-order-1" });
    expect(retry.id).toBe(first.id);
    expect(await balancesOf(client, account.id)).toEqual([25n, 25n]);

    const conflict = await rejection(
      createTransaction(client, account.id, { amount: 26n, settled: true, requestId: "e2e-order-1" }),
    );
    expect(conflict.code).toBe("FAILED_PRECONDITION");
    expect(await balancesOf(client, account.id)).toEqual([25n, 25n]);
  });

  it("pages ListTransactions in creation order across pages, with an empty token on the last page", async () => {
    const { client } = server;
    const account = await newAccount();
    const created: string[] = [];
    for (let i = 1; i <= 23; i++) {
      created.push(
        (await createTransaction(client, account.id, { amount: BigInt(i), settled: i % 3 !== 0, description: `t${i}` }))
          .id,
      );
    }
    const listed = await listAll(client, account.id, 10);
    expect(listed.pageSizes).toEqual([10, 10, 3]);
    expect(listed.transactions.map((t) => t.id)).toEqual(created);
    expect((await listAll(client, account.id)).pageSizes).toEqual([23]);
  });

  it("reports invalid input over the wire as INVALID_ARGUMENT naming the field", async () => {
    const { client } = server;
    const e = await rejection(client.getAccount("XYZ"));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/^account_id /);
    const tooLong = await rejection(client.createAccount({ requestId: "x".repeat(65) }));
    expect(tooLong.code).toBe("INVALID_ARGUMENT");
    expect(tooLong.message).toMatch(/^request_id /);
    const unknown = await rejection(getAccount(client, "00000000000000ab"));
    expect(unknown.code).toBe("NOT_FOUND");
  });

  it("CreateTransactions applies each item independently, in order, with its own outcome; a retry of the same call applies nothing twice; the effects survive a SIGKILL", async () => {
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

  it("CreateTransactions takes createTransactionsItemsMax items in one call and refuses one more with INVALID_ARGUMENT naming transactions", async () => {
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

  it("keeps every account and transaction, with balances and statuses, after SIGKILL and a restart on the same data dir", async () => {
    expect(accountIds.size).toBe(4);
    const snapshot = async (): Promise<Map<string, { account: Account; transactions: Transaction[] }>> => {
      const state = new Map<string, { account: Account; transactions: Transaction[] }>();
      for (const id of accountIds) {
        state.set(id, {
          account: await getAccount(server.client, id),
          transactions: (await listAll(server.client, id, 7)).transactions,
        });
      }
      return state;
    };
    const before = await snapshot();
    expect([...before.values()].reduce((n, s) => n + s.transactions.length, 0)).toBe(28);

    server.client.close();
    const exit = await server.process.kill();
    expect(exit.signal).toBe("SIGKILL");
    server = await startStandalone(dataDir);

    expect(await snapshot()).toEqual(before);
    for (const { transactions } of before.values()) {
      for (const t of transactions) expect(await getTransaction(server.client, t.id)).toEqual(t);
    }
  });
});

describe("standalone process behaviour", () => {
  it("exits 0 on SIGTERM after logging that it stopped, and the data is there on the next start", async () => {
    const dataDir = join(await makeTempDir("standalone-term-"), "data");
    const first = await startStandalone(dataDir);
    const account = await createAccount(first.client);
    first.client.close();
    const exit = await first.process.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(first.process.stdoutLines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);

    const second = await startStandalone(dataDir);
    expect((await getAccount(second.client, account.id)).id).toBe(account.id);
    second.client.close();
    expect(await second.process.stop()).toEqual({ code: 0, signal: null });
  });

  it("on SIGTERM under load, answers or refuses every call, exits 0, and keeps every acknowledged write", async () => {
    const dataDir = join(await makeTempDir("standalone-load-"), "data");
    const first = await startStandalone(dataDir);
    const account = await createAccount(first.client);
    const calls = Array.from({ length: 40 }, (_, i) =>
      createTransaction(first.client, account.id, { amount: 1n, settled: true, description: `load ${i}` }),
    );
    // SIGTERM as soon as the first write is acknowledged: the others are queued, in flight or not yet sent.
    await Promise.race(calls);
    first.process.signal("SIGTERM");
    const outcomes = await Promise.allSettled(calls);
    expect(await first.process.waitForExit()).toEqual({ code: 0, signal: null });
    first.client.close();

    const acknowledged = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    const refusedCodes = outcomes.flatMap((o) => (o.status === "rejected" ? [(o.reason as LedgerError).code] : []));
    expect(acknowledged.length).toBeGreaterThanOrEqual(1);
    for (const code of refusedCodes) expect(["UNAVAILABLE", "CANCELLED"]).toContain(code);

    const second = await startStandalone(dataDir);
    expect(await balancesOf(second.client, account.id)).toEqual([
      BigInt(acknowledged.length),
      BigInt(acknowledged.length),
    ]);
    for (const t of acknowledged) expect(await getTransaction(second.client, t.id)).toEqual(t);
    second.client.close();
  });

  it("exits 2 with the usage on a bad --port", async () => {
    const proc = startTsProcess("cmd/standalone.ts", ["--port", "70000", "--data-dir", await makeTempDir()]);
    expect(await proc.waitForExit()).toEqual({ code: 2, signal: null });
    expect(proc.stderr).toContain("--port");
    expect(proc.stderr).toContain("Usage:");
  });

  it("exits 1 with one line on stderr when the port is in use", async () => {
    const dir = await makeTempDir();
    const holder = await startStandalone(join(dir, "a"));
    const port = holder.address.split(":").at(-1)!;
    const proc = startTsProcess("cmd/standalone.ts", [
      "--port",
      port,
      "--data-dir",
      join(dir, "b"),
      ...holder.secrets.args,
    ]);
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(proc.stderrLines.filter((l) => l !== "")).toEqual([
      expect.stringMatching(/^standalone: cannot listen on .*address already in use/),
    ]);
    holder.client.close();
  });

  it("exits 1 with one line on stderr when the data dir cannot be opened", async () => {
    const dir = await makeTempDir();
    const notADir = join(dir, "file");
    await writeFile(notADir, "not a database");
    const proc = startTsProcess("cmd/standalone.ts", [
      "--port",
      "0",
      "--data-dir",
      join(notADir, "data"),
      "--insecure",
    ]);
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(proc.stderrLines.filter((l) => l !== "")).toEqual([
      expect.stringMatching(/^standalone: cannot open data dir /),
    ]);
  });
});
