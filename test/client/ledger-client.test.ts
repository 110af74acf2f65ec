// The typed client against a scripted in-process server: what each method sends, what it
// returns, and that every failure is a LedgerError with the right code; plus the unreachable
// server case against a closed port.

import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LedgerClient } from "../../src/client/ledger-client.js";
import { LedgerError } from "../../src/base/errors.js";
import {
  AccountSchema,
  ListTransactionsResponseSchema,
  TransactionSchema,
  TransactionStatus,
  type ListTransactionsRequest,
  type Transaction,
} from "../../src/gen/ledger/v1/ledger_pb.js";
import { findFreePort } from "../support/free-port.js";
import { ScriptedServer } from "./scripted-server.js";

const accountId = "0123456789abcdef";

function transaction(n: number): Transaction {
  return create(TransactionSchema, {
    id: `${accountId}${n.toString(16).padStart(16, "0")}`,
    amount: BigInt(n),
    status: TransactionStatus.SETTLED,
  });
}

/** A ListTransactions handler over a fixed list whose page token is the next offset. */
function pagesByOffset(all: Transaction[]) {
  return async (req: ListTransactionsRequest) => {
    const start = req.pageToken === "" ? 0 : Number(req.pageToken);
    const end = Math.min(start + req.pageSize, all.length);
    return create(ListTransactionsResponseSchema, {
      transactions: all.slice(start, end),
      nextPageToken: end < all.length ? String(end) : "",
    });
  };
}

async function failure(promise: Promise<unknown>): Promise<LedgerError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(LedgerError);
    return e as LedgerError;
  }
  throw new Error("expected the call to fail");
}

describe("LedgerClient.connect", () => {
  it.each([
    ["localhost", 'address "localhost" has no port: expected host:port'],
    ["localhost:0", 'address "localhost:0": port "0" is not a number in 1..65535'],
    [
      "local host:8000",
      'address "local host:8000": host "local host" is not a valid hostname or IP address (bad label "local host")',
    ],
    ["127.0.0.1:99999", 'address "127.0.0.1:99999": port 99999 is out of range 1..65535'],
  ])("rejects the address %j with INVALID_ARGUMENT naming the problem", (address, message) => {
    let thrown: unknown;
    try {
      LedgerClient.connect(address).close();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(LedgerError);
    expect(thrown).toMatchObject({ code: "INVALID_ARGUMENT", message });
  });

  it("rejects a deadline that is not a positive integer", () => {
    expect(() => LedgerClient.connect("localhost:8000", { deadlineMs: 0 })).toThrow(
      "deadlineMs must be a positive integer, got 0",
    );
  });

  it("refuses to send an API key over an insecure channel", () => {
    expect(() => LedgerClient.connect("localhost:8000", { tls: "insecure", apiKey: "lk_000000000000_x" })).toThrow(
      "apiKey needs TLS",
    );
  });

  it("defaults to localhost:8000", () => {
    const client = LedgerClient.connect();
    expect(client.address).toBe("localhost:8000");
    client.close();
  });
});

describe("LedgerClient against an unreachable address (a closed port)", () => {
  let client: LedgerClient;
  let address: string;

  beforeAll(async () => {
    address = `127.0.0.1:${await findFreePort()}`;
    client = LedgerClient.connect(address);
  });
  afterAll(() => client.close());

  it.each([
    ["createAccount", () => client.createAccount()],
    ["getAccount", () => client.getAccount(accountId)],
    ["createTransaction", () => client.createTransaction({ accountId, amount: 1n })],
    ["listTransactions", () => client.listTransactions({ accountId })],
  ])("%s fails with UNAVAILABLE naming the address", async (_name, call) => {
    const e = await failure(call());
    expect(e.code).toBe("UNAVAILABLE");
    expect(e.message).toMatch(new RegExp(`^cannot reach ledger at ${address} \\(.+\\)$`));
    expect(e.details.address).toBe(address);
  });

  it("waitForReady fails with UNAVAILABLE naming the address once the deadline passes", async () => {
    const e = await failure(client.waitForReady(Date.now() + 200));
    expect(e.code).toBe("UNAVAILABLE");
    expect(e.message).toMatch(new RegExp(`^cannot reach ledger at ${address} \\(not connected before the deadline`));
  });
});

describe("LedgerClient against a scripted server", () => {
  let server: ScriptedServer;
  let client: LedgerClient;

  beforeAll(async () => {
    server = await ScriptedServer.start();
    client = LedgerClient.connect(server.address, { deadlineMs: 2_000, tls: "insecure" });
  });
  beforeEach(() => server.reset());
  afterAll(() => {
    client.close();
    server.stop();
  });

  it("waitForReady resolves once connected", async () => {
    await expect(client.waitForReady(Date.now() + 5_000)).resolves.toBeUndefined();
  });

  it("createAccount sends the request id and returns the account with bigint balances", async () => {
    server.handlers.createAccount = async () => ({
      $typeName: "ledger.v1.CreateAccountResponse",
      account: create(AccountSchema, { id: accountId, availableBalance: -5n, settledBalance: 2n ** 62n }),
    });
    const account = await client.createAccount({ requestId: "req-1" });
    expect(account.id).toBe(accountId);
    expect([account.availableBalance, account.settledBalance]).toEqual([-5n, 2n ** 62n]);
    expect(server.requests).toMatchObject([{ method: "createAccount", request: { requestId: "req-1" } }]);
  });

  it("createTransaction sends every field, with defaults for the optional ones", async () => {
    server.handlers.createTransaction = async (req) => ({
      $typeName: "ledger.v1.CreateTransactionResponse",
      transaction: transaction(Number(-req.amount)),
    });
    await client.createTransaction({ accountId, amount: -1234n, description: "coffee", settled: true, requestId: "r" });
    await client.createTransaction({ accountId, amount: -7n });
    expect(server.requests.map((r) => r.request)).toMatchObject([
      { accountId, amount: -1234n, description: "coffee", settled: true, requestId: "r" },
      { accountId, amount: -7n, description: "", settled: false, requestId: "" },
    ]);
  });

  it("getTransaction, settleTransaction and cancelTransaction each call their own method with the id", async () => {
    const reply = async () => ({ transaction: transaction(1) });
    server.handlers.getTransaction = async () => ({
      $typeName: "ledger.v1.GetTransactionResponse",
      ...(await reply()),
    });
    server.handlers.settleTransaction = async () => ({
      $typeName: "ledger.v1.SettleTransactionResponse",
      ...(await reply()),
    });
    server.handlers.cancelTransaction = async () => ({
      $typeName: "ledger.v1.CancelTransactionResponse",
      ...(await reply()),
    });
    const id = transaction(1).id;
    expect((await client.getTransaction(id)).id).toBe(id);
    expect((await client.settleTransaction(id)).id).toBe(id);
    expect((await client.cancelTransaction(id)).id).toBe(id);
    expect(server.requests).toMatchObject([
      { method: "getTransaction", request: { transactionId: id } },
      { method: "settleTransaction", request: { transactionId: id } },
      { method: "cancelTransaction", request: { transactionId: id } },
    ]);
  });

  it("keeps the server's code, message and details (NOT_FOUND, NOT_LEADER, a server-side UNAVAILABLE)", async () => {
    server.handlers.getAccount = async (req) => {
      if (req.accountId === "a") throw new LedgerError("NOT_FOUND", "account a not found");
      if (req.accountId === "b") throw new LedgerError("NOT_LEADER", "not the leader", { leader: "node02" });
      throw new LedgerError("UNAVAILABLE", "shard-03 has no leader");
    };
    expect(await failure(client.getAccount("a"))).toMatchObject({ code: "NOT_FOUND", message: "account a not found" });
    expect(await failure(client.getAccount("b"))).toMatchObject({ code: "NOT_LEADER", details: { leader: "node02" } });
    // The server answered: this is not reported as an unreachable server.
    expect(await failure(client.getAccount("c"))).toMatchObject({
      code: "UNAVAILABLE",
      message: "shard-03 has no leader",
    });
  });

  it("a reply without its message is INTERNAL", async () => {
    server.handlers.getAccount = async () => ({ $typeName: "ledger.v1.GetAccountResponse", account: undefined });
    expect(await failure(client.getAccount(accountId))).toMatchObject({
      code: "INTERNAL",
      message: "the server's reply has no account",
    });
  });

  it("a call that outlives its deadline fails with DEADLINE_EXCEEDED, and the server sees it cancelled", async () => {
    let serverSawAbort = false;
    server.handlers.getAccount = (_req, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => {
          serverSawAbort = true;
          reject(new LedgerError("CANCELLED", "cancelled"));
        });
      });
    const e = await failure(client.getAccount(accountId, { timeoutMs: 100 }));
    expect(e.code).toBe("DEADLINE_EXCEEDED");
    expect(e.message).not.toMatch(/cannot reach/);
    await expect.poll(() => serverSawAbort).toBe(true);
  });

  it("the connect-time deadline applies to calls that set none", async () => {
    const hasty = LedgerClient.connect(server.address, { deadlineMs: 100, tls: "insecure" });
    let deadlineSeen: number | undefined;
    let receivedAt = 0;
    server.handlers.getAccount = (_req, ctx) => {
      deadlineSeen = ctx.deadlineMs;
      receivedAt = Date.now();
      return new Promise((_resolve, reject) =>
        ctx.signal.addEventListener("abort", () => reject(new LedgerError("CANCELLED", "cancelled"))),
      );
    };
    const before = Date.now();
    try {
      expect((await failure(hasty.getAccount(accountId))).code).toBe("DEADLINE_EXCEEDED");
    } finally {
      hasty.close();
    }
    expect(deadlineSeen).toBeGreaterThanOrEqual(before + 100 - 5);
    // The server counts the budget from when the call reached it (grpc-timeout is relative, and
    // rounded up to its unit): never more than the 100 ms the client set, whatever the transit.
    expect(deadlineSeen).toBeLessThanOrEqual(receivedAt + 100 + 5);
  });

  it("listTransactions returns one page; transactions() walks every page in order", async () => {
    const all = Array.from({ length: 5 }, (_, i) => transaction(i + 1));
    server.handlers.listTransactions = pagesByOffset(all);
    const first = await client.listTransactions({ accountId, pageSize: 2 });
    expect(first.transactions.map((t) => t.id)).toEqual(all.slice(0, 2).map((t) => t.id));
    expect(first.nextPageToken).toBe("2");

    server.reset();
    server.handlers.listTransactions = pagesByOffset(all);
    const seen: string[] = [];
    for await (const t of client.transactions(accountId, { pageSize: 2 })) seen.push(t.id);
    expect(seen).toEqual(all.map((t) => t.id));
    expect(server.requests.map((r) => (r.request as ListTransactionsRequest).pageToken)).toEqual(["", "2", "4"]);
  });

  it("transactions() stops with INTERNAL when the server hands out the same page token twice", async () => {
    server.handlers.listTransactions = async () =>
      create(ListTransactionsResponseSchema, { transactions: [transaction(1)], nextPageToken: "again" });
    const seen: string[] = [];
    const walk = async () => {
      for await (const t of client.transactions(accountId)) seen.push(t.id);
    };
    expect(await failure(walk())).toMatchObject({
      code: "INTERNAL",
      message: 'ListTransactions returned page token "again" twice',
    });
    expect(seen).toHaveLength(2);
  });
});
