// CompactionPolicy on real ReplicaLogs (a temp LevelDB; the batches are collected, not written):
// a replica's own thresholds keep a byte-bounded catch-up tail, and a node whose logs together
// pass their budget compacts the largest first, down to half of it, never past what is applied.

import { ClassicLevel } from "classic-level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";
import { CompactionPolicy } from "../../src/node/compaction-policy.js";
import { raftLogBytesBeforeCompaction, raftLogCatchUpBytes } from "../../src/node/limits.js";
import type { NodeBatch, Replica } from "../../src/node/replica.js";
import { EntryType, type Entry } from "../../src/raft/types.js";
import type { LedgerDb } from "../../src/storage/ledger-store.js";
import { replicaLogEntryOverheadBytes } from "../../src/storage/limits.js";
import { ReplicaLog } from "../../src/storage/replica-log.js";
import { autoCleanup } from "../support/cleanup.js";
import { makeTempDir } from "../support/temp-dirs.js";

autoCleanup();

let db: LedgerDb;

beforeEach(async () => {
  db = new ClassicLevel<Uint8Array, Uint8Array>(await makeTempDir("compaction-"), {
    keyEncoding: "view",
    valueEncoding: "view",
  });
  await db.open();
});

afterEach(async () => {
  await db.close();
});

const discard = { put: () => undefined, del: () => undefined };
const batch = discard as unknown as NodeBatch;

/** A replica with `count` entries of `size` payload bytes, applied through `applied`. The
 * policy reads only the log, the applied index and the shard id. */
async function replicaWith(id: number, count: number, size: number, applied = count): Promise<Replica> {
  const log = await ReplicaLog.load(db, id, [id]);
  const entries: Entry[] = Array.from({ length: count }, (_, i) => ({
    index: i + 1,
    term: 1,
    type: EntryType.Normal,
    data: new Uint8Array(size),
  }));
  const rd = { entries, committedEntries: [], messages: [], readStates: [], mustSync: true, sendFirst: false };
  log.persistReady({ ...rd, hardState: { term: 1, vote: id, commit: applied } }, discard);
  log.setApplied(applied, discard);
  return { log, applied, shard: { id: `shard-${id}` } } as unknown as Replica;
}

const held = (rs: readonly Replica[]): number => rs.reduce((sum, r) => sum + r.log.heldBytes(), 0);
const silent = createLogger({ name: "compaction", level: "silent" });

describe("a node's logs over their budget", () => {
  it("are compacted largest first until they hold at most half the budget", async () => {
    const each = 1000 + replicaLogEntryOverheadBytes;
    const rs = [await replicaWith(1, 50, 1000), await replicaWith(2, 500, 1000), await replicaWith(3, 60, 1000)];
    const budget = 400 * each; // 610 entries held
    new CompactionPolicy(silent, 1_000_000, budget).run(rs, batch);
    expect(held(rs)).toBeLessThanOrEqual(budget / 2);
    // The 500-entry log went first and alone brought the node under half the budget: each
    // keeps at most its share of that half as a catch-up tail.
    const share = Math.floor(budget / 2 / rs.length);
    expect(rs[1]?.log.heldBytes()).toBeLessThanOrEqual(share);
    expect(rs[1]?.log.heldBytes()).toBeGreaterThan(share - each);
    expect(rs[2]?.log.entryCount()).toBe(60);
    expect(rs[0]?.log.entryCount()).toBe(50);
  });

  it("are left alone at or under the budget", async () => {
    const rs = [await replicaWith(1, 100, 1000), await replicaWith(2, 100, 1000)];
    new CompactionPolicy(silent, 1_000_000, held(rs)).run(rs, batch);
    expect(rs.map((r) => r.log.entryCount())).toEqual([100, 100]);
  });

  it("never lose entries that are not applied yet", async () => {
    const rs = [await replicaWith(1, 100, 1000, 40), await replicaWith(2, 100, 1000, 0)];
    new CompactionPolicy(silent, 1_000_000, 1000).run(rs, batch);
    expect(rs[0]?.log.firstIndex()).toBeLessThanOrEqual(41);
    expect(rs[0]?.log.lastIndex()).toBe(100);
    expect(rs[1]?.log.firstIndex()).toBe(1);
  });

  it("log one line that says how much was held before and after", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      name: "compaction",
      destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    const rs = [await replicaWith(1, 50, 1000), await replicaWith(2, 50, 1000)];
    const before = held(rs);
    new CompactionPolicy(logger, 1_000_000, before - 1).run(rs, batch);
    const line = lines.find((l) => String(l.msg).includes("passed their budget"));
    expect(line).toMatchObject({ heldBytesBefore: before, heldBytesAfter: held(rs), budgetBytes: before - 1 });
  });
});

describe("one replica's log over its own byte threshold", () => {
  it("keeps a catch-up tail bounded by bytes, not just by entries", async () => {
    const mib = 1024 * 1024;
    const count = Math.ceil(raftLogBytesBeforeCompaction / mib) + 2;
    const r = await replicaWith(1, count, mib);
    new CompactionPolicy(silent, 1_000_000, Number.MAX_SAFE_INTEGER).run([r], batch);
    expect(r.log.heldBytes()).toBeLessThanOrEqual(raftLogCatchUpBytes);
    expect(r.log.lastIndex()).toBe(count);
  });
});
