// LedgerStore on a real classic-level database in a temp dir.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { ClassicLevel } from "classic-level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/assert.js";
import { ledgerPrefetchSyncKeysMax } from "../../src/storage/limits.js";
import { shardKey } from "../../src/cluster/shard-key.js";
import {
  CoreErrorCode,
  QuerySchema,
  type Command,
  type QueryResult,
  type TransactionPage,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import {
  accountKeyRange,
  decodeLedgerKey,
  KeyKind,
  prefixRange,
  shardKeyRange,
  standaloneLedgerPrefix,
} from "../../src/storage/ledger-keys.js";
import { LedgerStore, type LedgerDb } from "../../src/storage/ledger-store.js";
import { MemoryLedger } from "../../src/ledger/memory-ledger.js";
import {
  accountOf,
  cancelCommand,
  createAccountCommand,
  createTransactionCommand,
  errorOf,
  settleCommand,
  transactionOf,
} from "../ledger/commands.js";

const accountId = 0x0123456789abcdefn;
const otherAccountId = 0x00000000000000ffn;
let dir: string;
let db: LedgerDb;
let store: LedgerStore;

async function openDb(): Promise<LedgerDb> {
  const opened = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await opened.open();
  return opened;
}

async function apply(commands: Command[], target = store): Promise<ReturnType<LedgerStore["applyCommands"]>> {
  const batch = db.batch();
  const results = await target.applyCommands(commands, batch);
  await batch.write({ sync: true });
  return results;
}

const getAccount = (id: bigint): Promise<QueryResult> =>
  store.query(create(QuerySchema, { kind: { case: "getAccount", value: { accountId: id } } }));
const getTransaction = (id: bigint, localId: bigint): Promise<QueryResult> =>
  store.query(create(QuerySchema, { kind: { case: "getTransaction", value: { accountId: id, localId } } }));
const list = (id: bigint, afterSeq: bigint, limit: number): Promise<QueryResult> =>
  store.query(create(QuerySchema, { kind: { case: "listTransactions", value: { accountId: id, afterSeq, limit } } }));

function pageOf(result: QueryResult): TransactionPage {
  expect(result.kind.case).toBe("page");
  return result.kind.value as TransactionPage;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ledger-store-"));
  db = await openDb();
  store = new LedgerStore(db, standaloneLedgerPrefix);
});

afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

describe("LedgerStore", () => {
  it("applies commands and serves them back through queries", async () => {
    await apply([createAccountCommand(accountId)]);
    const [topup, purchase] = await apply([
      createTransactionCommand({ accountId, localId: 1n, amount: 100n, settled: true, description: "salary" }),
      createTransactionCommand({ accountId, localId: 2n, amount: -30n, settled: false }),
    ]);
    expect(transactionOf(topup!).status).toBe(TransactionStatus.SETTLED);
    const account = accountOf(await getAccount(accountId));
    expect([account.availableBalance, account.settledBalance, account.transactionCount]).toEqual([70n, 100n, 2n]);
    expect(transactionOf(await getTransaction(accountId, 2n))).toEqual(transactionOf(purchase!));
    expect(transactionOf(await getTransaction(accountId, 1n)).description).toBe("salary");
  });

  it("unknown account or transaction queries give NOT_FOUND; listing a missing account too", async () => {
    await apply([createAccountCommand(accountId)]);
    expect(errorOf(await getAccount(otherAccountId), CoreErrorCode.NOT_FOUND).message).toBe(
      "account 00000000000000ff not found",
    );
    expect(errorOf(await getTransaction(accountId, 5n), CoreErrorCode.NOT_FOUND).message).toBe(
      "transaction 0123456789abcdef0000000000000005 not found",
    );
    errorOf(await list(otherAccountId, 0n, 10), CoreErrorCode.NOT_FOUND);
  });

  it("a later command in the same batch sees an earlier one's writes, and the batch holds each record once", async () => {
    const batch = db.batch();
    const results = await store.applyCommands(
      [
        createAccountCommand(accountId),
        createTransactionCommand({ accountId, localId: 1n, amount: 50n, settled: true }),
        createTransactionCommand({ accountId, localId: 2n, amount: -20n, settled: false }),
        settleCommand(accountId, 2n),
        createTransactionCommand({ accountId, localId: 3n, amount: -40n, settled: true }), // 30 available: insufficient
      ],
      batch,
    );
    // 1 account record + 3 transaction records + 3 index entries, however many times each changed.
    expect(batch.length).toBe(7);
    await batch.write({ sync: true });
    expect(results.map((r) => r.kind.case)).toEqual([
      "account",
      "transaction",
      "transaction",
      "transaction",
      "transaction",
    ]);
    expect(transactionOf(results[3]!).status).toBe(TransactionStatus.SETTLED);
    expect(transactionOf(results[4]!).status).toBe(TransactionStatus.INSUFFICIENT_FUNDS);
    const account = accountOf(await getAccount(accountId));
    expect([account.availableBalance, account.settledBalance, account.transactionCount]).toEqual([30n, 30n, 3n]);
  });

  it("a command that breaks a core assertion adds nothing to the batch", async () => {
    await apply([createAccountCommand(accountId)]);
    const batch = db.batch();
    await expect(
      store.applyCommands(
        [
          createTransactionCommand({ accountId, localId: 1n, amount: 5n, settled: true }),
          createTransactionCommand({ accountId, localId: 2n, amount: 0n, settled: true }),
        ],
        batch,
      ),
    ).rejects.toBeInstanceOf(AssertionError);
    expect(batch.length).toBe(0);
    await batch.close();
  });

  it("lists transactions in creation order across pages; next_after_seq is 0 on the last page", async () => {
    await apply([createAccountCommand(accountId)]);
    // Local ids in an order unlike creation order, so the test tells the two apart.
    const localIds = Array.from({ length: 25 }, (_, i) => BigInt((i * 7919) % 1000) + 1n);
    await apply(
      localIds.map((localId, i) =>
        createTransactionCommand({ accountId, localId, amount: BigInt(i + 1), settled: i % 2 === 0 }),
      ),
    );
    const seen: bigint[] = [];
    const nexts: bigint[] = [];
    let after = 0n;
    do {
      const page = pageOf(await list(accountId, after, 10));
      seen.push(...page.transactions.map((t) => t.localId));
      nexts.push(page.nextAfterSeq);
      after = page.nextAfterSeq;
    } while (after !== 0n);
    expect(nexts).toEqual([10n, 20n, 0n]);
    expect(seen).toEqual(localIds);
  });

  it("a page that ends exactly at the last transaction has next_after_seq 0; past the end is empty", async () => {
    await apply([createAccountCommand(accountId)]);
    await apply(
      Array.from({ length: 4 }, (_, i) =>
        createTransactionCommand({ accountId, localId: BigInt(i + 1), amount: 1n, settled: true }),
      ),
    );
    const full = pageOf(await list(accountId, 0n, 4));
    expect([full.transactions.length, full.nextAfterSeq]).toEqual([4, 0n]);
    const tail = pageOf(await list(accountId, 2n, 4));
    expect(tail.transactions.map((t) => t.seq)).toEqual([3n, 4n]);
    const past = pageOf(await list(accountId, 4n, 4));
    expect([past.transactions.length, past.nextAfterSeq]).toEqual([0, 0n]);
  });

  it("every key of an account begins with prefix + its shard key and lies in its account and shard ranges", async () => {
    await apply([createAccountCommand(accountId), createAccountCommand(otherAccountId)]);
    await apply(
      [1n, 2n, 3n].map((localId) => createTransactionCommand({ accountId, localId, amount: 5n, settled: false })),
    );
    await apply([
      cancelCommand(accountId, 2n),
      createTransactionCommand({ accountId: otherAccountId, localId: 1n, amount: 1n, settled: true }),
    ]);
    const keys = await db.keys(prefixRange(standaloneLedgerPrefix)).all();
    const mine = keys.filter((k) => decodeLedgerKey(standaloneLedgerPrefix, k).accountId === accountId);
    expect(mine.map((k) => decodeLedgerKey(standaloneLedgerPrefix, k).kind).sort()).toEqual(
      [
        KeyKind.account,
        KeyKind.transaction,
        KeyKind.transaction,
        KeyKind.transaction,
        KeyKind.creationIndex,
        KeyKind.creationIndex,
        KeyKind.creationIndex,
      ].sort(),
    );
    const expectedHead = new Uint8Array(1 + 4);
    expectedHead.set(standaloneLedgerPrefix);
    new DataView(expectedHead.buffer).setUint32(1, shardKey(accountId), false);
    for (const key of mine) expect([...key.subarray(0, 5)]).toEqual([...expectedHead]);
    expect(await db.keys(accountKeyRange(standaloneLedgerPrefix, accountId)).all()).toEqual(mine);
    const sk = shardKey(accountId);
    const inShard = await db.keys(shardKeyRange(standaloneLedgerPrefix, sk, sk)).all();
    expect(inShard).toEqual(mine); // the other account hashes elsewhere
    expect(shardKey(otherAccountId)).not.toBe(sk);
  });

  it("ledger states under different prefixes in one database do not see each other", async () => {
    const other = new LedgerStore(db, Uint8Array.of(0x52, 0x02));
    await apply([
      createAccountCommand(accountId),
      createTransactionCommand({ accountId, localId: 1n, amount: 9n, settled: true }),
    ]);
    errorOf(
      await other.query(create(QuerySchema, { kind: { case: "getAccount", value: { accountId } } })),
      CoreErrorCode.NOT_FOUND,
    );
    const [result] = await apply([createAccountCommand(accountId, { requestId: "elsewhere" })], other);
    expect(accountOf(result!).availableBalance).toBe(0n);
    expect(accountOf(await getAccount(accountId)).availableBalance).toBe(9n);
  });

  it("a restart (close and reopen) keeps everything", async () => {
    await apply([createAccountCommand(accountId)]);
    await apply(
      Array.from({ length: 5 }, (_, i) =>
        createTransactionCommand({ accountId, localId: BigInt(100 - i), amount: 10n, settled: i < 3 }),
      ),
    );
    const before = { account: await getAccount(accountId), page: await list(accountId, 0n, 100) };
    await db.close();
    db = await openDb();
    store = new LedgerStore(db, standaloneLedgerPrefix);
    expect(await getAccount(accountId)).toEqual(before.account);
    expect(await list(accountId, 0n, 100)).toEqual(before.page);
    expect(pageOf(before.page).transactions).toHaveLength(5);
    // And it keeps applying on top of the reopened state.
    const [settled] = await apply([settleCommand(accountId, 97n)]);
    expect(transactionOf(settled!).status).toBe(TransactionStatus.SETTLED);
    expect(accountOf(await getAccount(accountId)).availableBalance).toBe(40n); // 3 settled topups of 10 + the one just settled
  });
});

describe("LedgerStore prefetch: few keys read one by one, many in one multi-get", () => {
  it("gives the same results and state for a batch above ledgerPrefetchSyncKeysMax keys as for the same commands applied one at a time", async () => {
    // 40 accounts, then 120 transactions over them: the transaction batch needs 160 records,
    // above the synchronous-read threshold, so it takes the getMany path.
    const ids = Array.from({ length: 40 }, (_, i) => 0x1000n + BigInt(i));
    const txs = Array.from({ length: 120 }, (_, i) =>
      createTransactionCommand({
        accountId: ids[i % ids.length]!,
        localId: BigInt(i + 1),
        amount: i % 3 === 0 ? -7n : 11n,
        settled: i % 2 === 0,
      }),
    );
    expect(ledgerPrefetchSyncKeysMax).toBeLessThan(160);
    await apply(ids.map((id) => createAccountCommand(id)));
    const batched = await apply(txs);

    const otherDir = await mkdtemp(join(tmpdir(), "ledger-store-"));
    const other = new ClassicLevel<Uint8Array, Uint8Array>(otherDir, { keyEncoding: "view", valueEncoding: "view" });
    await other.open();
    try {
      const single = new LedgerStore(other, standaloneLedgerPrefix);
      const one = async (c: Command) => {
        const b = other.batch();
        const [r] = await single.applyCommands([c], b);
        await b.write({ sync: true });
        return r!;
      };
      for (const id of ids) await one(createAccountCommand(id));
      const oneByOne = [];
      for (const c of txs) oneByOne.push(await one(c));
      expect(batched).toEqual(oneByOne);
      const dump = async (d: LedgerDb) =>
        (await d.iterator().all()).map(([k, v]) => [Buffer.from(k).toString("hex"), Buffer.from(v).toString("hex")]);
      expect(await dump(db)).toEqual(await dump(other));
      expect(
        batched.some(
          (r) => r.kind.case === "transaction" && r.kind.value.status === TransactionStatus.INSUFFICIENT_FUNDS,
        ),
      ).toBe(true);
    } finally {
      await other.close();
      await rm(otherDir, { recursive: true, force: true });
    }
  });
});

describe("LedgerStore and MemoryLedger", () => {
  it("answer every query alike (one query implementation, src/ledger/queries.ts)", async () => {
    const memory = new MemoryLedger();
    const commands: Command[] = [createAccountCommand(accountId), createAccountCommand(otherAccountId)];
    for (let localId = 1n; localId <= 7n; localId++) {
      commands.push(
        createTransactionCommand({
          accountId,
          localId,
          amount: localId % 3n === 0n ? -2n : 10n,
          settled: localId % 2n === 0n,
        }),
      );
    }
    commands.push(settleCommand(accountId, 1n), cancelCommand(accountId, 3n));
    await apply(commands);
    for (const c of commands) memory.apply(c);
    const queries = [
      { case: "getAccount", value: { accountId } },
      { case: "getAccount", value: { accountId: 0x42n } },
      { case: "getTransaction", value: { accountId, localId: 5n } },
      { case: "getTransaction", value: { accountId, localId: 99n } },
      ...[1, 3, 7, 8].flatMap((limit) =>
        [0n, 2n, 6n, 7n].map((afterSeq) => ({ case: "listTransactions", value: { accountId, afterSeq, limit } })),
      ),
      { case: "listTransactions", value: { accountId: otherAccountId, afterSeq: 0n, limit: 5 } },
      { case: "listTransactions", value: { accountId: 0x42n, afterSeq: 0n, limit: 5 } },
    ] as const;
    for (const kind of queries) {
      const query = create(QuerySchema, { kind } as never);
      expect(
        await store.query(query),
        JSON.stringify(kind, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
      ).toEqual(await memory.query(query));
    }
  });
});
