// The hot account cache: bounded, least recently used out first, and exact. A replica with a
// warm cache must apply every command exactly as one without it, byte for byte, or replicas
// would diverge; a batch that is dropped instead of written must not leave its records behind.

import { MemoryLevel } from "memory-level";
import { describe, expect, it } from "vitest";
import { seededPrng } from "../../src/base/prng.js";
import type { Command, CommandResult } from "../../src/gen/ledger/core/v1/core_pb.js";
import { HotAccounts } from "../../src/storage/hot-accounts.js";
import { standaloneLedgerPrefix } from "../../src/storage/ledger-keys.js";
import { LedgerStore, type LedgerDb } from "../../src/storage/ledger-store.js";
import {
  accountOf,
  cancelCommand,
  createAccountCommand,
  createTransactionCommand,
  settleCommand,
} from "../ledger/commands.js";
import { create } from "@bufbuild/protobuf";
import { AccountRecordSchema } from "../../src/gen/ledger/core/v1/core_pb.js";

async function memoryDb(): Promise<LedgerDb> {
  const db = new MemoryLevel<Uint8Array, Uint8Array>({ keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  return db;
}

/** Applies `commands` as one batch and writes it. */
async function applyWritten(db: LedgerDb, store: LedgerStore, commands: Command[]): Promise<CommandResult[]> {
  const batch = db.batch();
  const results = await store.applyCommands(commands, batch);
  await batch.write();
  return results;
}

async function dump(db: LedgerDb): Promise<string[]> {
  return (await db.iterator().all()).map(
    ([k, v]) => `${Buffer.from(k).toString("hex")}=${Buffer.from(v).toString("hex")}`,
  );
}

describe("HotAccounts", () => {
  it("never holds more than its bound and evicts the least recently used record", () => {
    const cache = new HotAccounts(3);
    const record = (id: bigint) => create(AccountRecordSchema, { id });
    for (const id of [1n, 2n, 3n]) cache.set(id, record(id));
    expect(cache.get(1n)?.id).toBe(1n); // 1 is now the most recently used
    cache.set(4n, record(4n));
    expect(cache.size).toBe(3);
    expect(cache.get(2n)).toBeUndefined();
    expect([1n, 3n, 4n].map((id) => cache.get(id)?.id)).toEqual([1n, 3n, 4n]);
    for (let id = 10n; id < 100n; id++) cache.set(id, record(id));
    expect(cache.size).toBe(3);
  });

  it("freezes what it holds, so no caller can change a cached record in place", () => {
    const cache = new HotAccounts(1);
    const r = create(AccountRecordSchema, { id: 1n, availableBalance: 5n });
    cache.set(1n, r);
    expect(() => {
      (cache.get(1n) as { availableBalance: bigint }).availableBalance = 6n;
    }).toThrow(TypeError);
  });
});

describe("LedgerStore with hot accounts", () => {
  it("a store with a small cache and one without write the same bytes and give the same results (seeded workload)", async () => {
    const rng = seededPrng(11);
    const ids = Array.from({ length: 12 }, (_, i) => 0x5000n + BigInt(i));
    const dbs = [await memoryDb(), await memoryDb()];
    // A cache of 4 over 12 accounts: hits, misses and evictions all happen.
    const stores = [
      new LedgerStore(dbs[0]!, standaloneLedgerPrefix, 4),
      new LedgerStore(dbs[1]!, standaloneLedgerPrefix, 0),
    ];
    const batches: Command[][] = [ids.map((id) => createAccountCommand(id))];
    let localId = 0n;
    const pending: [bigint, bigint][] = [];
    for (let b = 0; b < 60; b++) {
      const batch: Command[] = [];
      for (let n = 1 + rng.intBelow(6); n > 0; n--) {
        const accountId = ids[rng.intBelow(ids.length)]!;
        const roll = rng.intBelow(10);
        if (roll < 2 && pending.length > 0) {
          const [a, l] = pending.splice(rng.intBelow(pending.length), 1)[0]!;
          batch.push(roll === 0 ? settleCommand(a, l) : cancelCommand(a, l));
        } else {
          const settled = rng.intBelow(2) === 0;
          localId++;
          if (!settled) pending.push([accountId, localId]);
          batch.push(
            createTransactionCommand({ accountId, localId, amount: BigInt(rng.intBelow(200)) - 60n || 1n, settled }),
          );
        }
      }
      batches.push(batch);
    }
    for (const batch of batches) {
      const [warm, cold] = [
        await applyWritten(dbs[0]!, stores[0]!, batch),
        await applyWritten(dbs[1]!, stores[1]!, batch),
      ];
      expect(warm).toEqual(cold);
    }
    expect(await dump(dbs[0]!)).toEqual(await dump(dbs[1]!));
    for (const db of dbs) await db.close();
  });

  it("after batchDropped, the next apply sees what the database holds, not the dropped batch", async () => {
    const db = await memoryDb();
    const store = new LedgerStore(db, standaloneLedgerPrefix);
    await applyWritten(db, store, [createAccountCommand(1n)]);
    await applyWritten(db, store, [
      createTransactionCommand({ accountId: 1n, localId: 1n, amount: 100n, settled: true }),
    ]);
    // A write that fails: the batch is dropped.
    const dropped = db.batch();
    await store.applyCommands(
      [createTransactionCommand({ accountId: 1n, localId: 2n, amount: 50n, settled: true })],
      dropped,
    );
    await dropped.close();
    store.batchDropped();
    const [retried] = await applyWritten(db, store, [
      createTransactionCommand({ accountId: 1n, localId: 2n, amount: 50n, settled: true }),
    ]);
    expect(retried?.kind.case).toBe("transaction");
    const [again] = await applyWritten(db, store, [
      createTransactionCommand({ accountId: 1n, localId: 3n, amount: 1n, settled: true }),
    ]);
    expect(again?.kind.case).toBe("transaction");
    const account = accountOf(
      await store.query({
        $typeName: "ledger.core.v1.Query",
        kind: { case: "getAccount", value: { $typeName: "ledger.core.v1.GetAccount", accountId: 1n } },
      }),
    );
    expect(account.availableBalance).toBe(151n);
    expect(account.transactionCount).toBe(3n);
    await db.close();
  });
});
