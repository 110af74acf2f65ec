// ReplicaLog on a real classic-level database in a temp dir: what is persisted through a batch
// is exactly what load() finds after a reopen, and the Storage contract holds in memory.

import { ClassicLevel } from "classic-level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EntryType, RaftError } from "../../src/raft/types.js";
import { ConfChangeType, encodeConfChange } from "../../src/raft/conf-change.js";
import type { Entry, HardState, Ready, Snapshot } from "../../src/raft/types.js";
import type { LedgerDb } from "../../src/storage/ledger-store.js";
import {
  entryKey,
  entryKeyIndex,
  entryRange,
  generationsBelow,
  hardStateKey,
  ledgerPrefix,
  otherGenerationRanges,
} from "../../src/storage/replica-keys.js";
import { ReplicaLog, ReplicaLogCorruptError } from "../../src/storage/replica-log.js";
import { DbWriter } from "../../src/storage/db-writer.js";
import { replicaLogEntryOverheadBytes } from "../../src/storage/limits.js";
import { autoCleanup } from "../support/cleanup.js";
import { makeTempDir } from "../support/temp-dirs.js";

autoCleanup();

const replica = 7;
const voters = [7, 8, 9];
let dir: string;
let db: LedgerDb;

async function openDb(): Promise<LedgerDb> {
  const opened = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await opened.open();
  return opened;
}

/** Closes and reopens the database (a restart; nothing unwritten survives). */
async function reopen(): Promise<void> {
  await db.close();
  db = await openDb();
}

beforeEach(async () => {
  dir = await makeTempDir("replica-log-");
  db = await openDb();
});

afterEach(async () => {
  await db.close();
});

function entry(index: number, term: number, text = `e${index}t${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(text) };
}

function run(from: number, to: number, term: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
}

function ready(over: Partial<Ready>): Ready {
  return { entries: [], committedEntries: [], messages: [], readStates: [], mustSync: true, sendFirst: false, ...over };
}

function snapshotAt(index: number, term: number, snapVoters = voters): Snapshot {
  return { metadata: { index, term, confState: { voters: snapVoters, learners: [] } }, data: new Uint8Array(0) };
}

async function persist(log: ReplicaLog, rd: Ready, options?: { generation?: number }): Promise<void> {
  const batch = db.batch();
  log.persistReady(rd, batch, options);
  await batch.write({ sync: true });
}

async function inBatch(f: (batch: ReturnType<LedgerDb["batch"]>) => void): Promise<void> {
  const batch = db.batch();
  f(batch);
  await batch.write({ sync: true });
}

/** Everything a restart must reproduce. */
function stateOf(log: ReplicaLog): unknown {
  return {
    initial: log.initialState(),
    hardState: log.hardState(),
    snapshot: log.snapshot(),
    applied: log.applied(),
    generation: log.generation(),
    first: log.firstIndex(),
    last: log.lastIndex(),
    entries: log.entries(log.firstIndex(), log.lastIndex() + 1, Number.MAX_SAFE_INTEGER),
    memoryBytes: log.memoryBytes(),
    entryCount: log.entryCount(),
  };
}

async function storedEntryIndexes(replicaId = replica): Promise<number[]> {
  const keys = await db.keys(entryRange(replicaId, 0, Number.MAX_SAFE_INTEGER)).all();
  return keys.map((k) => entryKeyIndex(replicaId, k) ?? -1);
}

async function reload(replicaId = replica): Promise<ReplicaLog> {
  await reopen();
  return ReplicaLog.load(db, replicaId, voters);
}

function raftCode(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof RaftError) return e.code;
    throw e;
  }
  return undefined;
}

async function clearPending(log: ReplicaLog): Promise<void> {
  const writer = new DbWriter(db);
  for (const range of log.pendingCleanup()) void writer.clear(range);
  await writer.close();
  log.cleanupDone();
}

describe("a new replica", () => {
  it("loads the defaults: empty log, voters as confState, applied 0, generation 0, nothing to clean", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    expect(log.replicaId).toBe(replica);
    expect(log.initialState()).toEqual({
      hardState: { term: 0, vote: 0, commit: 0 },
      confState: { voters, learners: [] },
    });
    expect(log.snapshot()).toEqual(snapshotAt(0, 0));
    expect([log.firstIndex(), log.lastIndex(), log.applied(), log.generation()]).toEqual([1, 0, 0, 0]);
    expect(log.term(0)).toBe(0);
    expect(log.pendingCleanup()).toEqual([]);
  });
});

describe("round trips", () => {
  it("entries, hard state and applied index persisted through batches reload identically", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    const hs: HardState = { term: 2, vote: 8, commit: 4 };
    await persist(log, ready({ entries: [...run(1, 2, 1), ...run(3, 5, 2)], hardState: hs }));
    await inBatch((b) => log.setApplied(3, b));
    expect(log.hardState()).toEqual(hs);
    const before = stateOf(log);
    const again = await reload();
    expect(stateOf(again)).toEqual(before);
    expect(again.applied()).toBe(3);
    expect(again.entries(1, 6, 1000).map((e) => new TextDecoder().decode(e.data))).toEqual([
      "e1t1",
      "e2t1",
      "e3t2",
      "e4t2",
      "e5t2",
    ]);
  });

  it("keeps an entry's type and empty or large payloads byte for byte", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    const big = new Uint8Array(70_000).map((_, i) => i % 251);
    const ents: Entry[] = [
      { index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array(0) },
      { index: 2, term: 1, type: EntryType.ConfChange, data: Uint8Array.of(1, 2, 3) },
      { index: 3, term: 2 ** 40, type: EntryType.Normal, data: big },
    ];
    await persist(log, ready({ entries: ents, hardState: { term: 2 ** 40, vote: 0, commit: 0 } }));
    const again = await reload();
    expect(again.entries(1, 4, Number.MAX_SAFE_INTEGER)).toEqual(ents);
    expect(again.memoryBytes()).toBe(3 + big.length);
  });
});

describe("Storage contract", () => {
  async function compactedLog(): Promise<ReplicaLog> {
    // Entries 1..8; snapshot at 3 (term 1): first index 4, last index 8.
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(
      log,
      ready({ entries: [...run(1, 3, 1), ...run(4, 8, 2)], hardState: { term: 2, vote: 7, commit: 8 } }),
    );
    await inBatch((b) => log.setApplied(5, b));
    await inBatch((b) => log.compact(3, b));
    return log;
  }

  it("answers COMPACTED before firstIndex and UNAVAILABLE past lastIndex, and term(snapshot index) from the snapshot", async () => {
    const log = await compactedLog();
    expect([log.firstIndex(), log.lastIndex()]).toEqual([4, 8]);
    expect(log.term(3)).toBe(1);
    expect(log.term(4)).toBe(2);
    expect(log.term(8)).toBe(2);
    expect(raftCode(() => log.term(2))).toBe("COMPACTED");
    expect(raftCode(() => log.term(9))).toBe("UNAVAILABLE");
    expect(raftCode(() => log.entries(3, 5, 100))).toBe("COMPACTED");
    expect(raftCode(() => log.entries(4, 10, 100))).toBe("UNAVAILABLE");
    expect(log.entries(4, 9, 1000).map((e) => e.index)).toEqual([4, 5, 6, 7, 8]);
    expect(log.entries(6, 6, 1000)).toEqual([]);
    expect(log.snapshot().data.byteLength).toBe(0);
    expect(log.snapshot().metadata).toEqual({ index: 3, term: 1, confState: { voters, learners: [] } });
  });

  it("limits entries to maxBytes but always returns at least one", async () => {
    const log = await compactedLog();
    // Every payload here is 4 bytes ("e4t2").
    expect(log.entries(4, 9, 8).map((e) => e.index)).toEqual([4, 5]);
    expect(log.entries(4, 9, 9).map((e) => e.index)).toEqual([4, 5]);
    expect(log.entries(4, 9, 0).map((e) => e.index)).toEqual([4]);
  });

  it("does not let a caller mutate its state through returned values", async () => {
    const log = await compactedLog();
    log.initialState().confState.voters.push(99);
    log.snapshotMetadata().confState.voters.push(99);
    log.hardState().term = 99;
    log.entries(4, 9, 1000).length = 0;
    expect(log.initialState().confState.voters).toEqual(voters);
    expect(log.hardState().term).toBe(2);
    expect(log.entryCount()).toBe(5);
  });
});

describe("conflicting suffix", () => {
  it("replaces the suffix from the first new entry and deletes the stored keys above the new last index", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: run(1, 6, 1), hardState: { term: 1, vote: 8, commit: 2 } }));
    await persist(log, ready({ entries: [entry(4, 3, "new4")], hardState: { term: 3, vote: 9, commit: 2 } }));
    expect(log.lastIndex()).toBe(4);
    expect(await storedEntryIndexes()).toEqual([1, 2, 3, 4]);
    const again = await reload();
    expect(stateOf(again)).toEqual(stateOf(log));
    expect(again.term(4)).toBe(3);
    expect(new TextDecoder().decode(again.entries(4, 5, 100)[0]?.data)).toBe("new4");
  });

  it("a longer replacement overwrites every old key and the memory bytes follow", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: run(1, 4, 1), hardState: { term: 1, vote: 0, commit: 1 } }));
    await persist(log, ready({ entries: run(2, 9, 2), hardState: { term: 2, vote: 0, commit: 1 } }));
    expect(await storedEntryIndexes()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const again = await reload();
    expect(again.entries(1, 10, 1000).map((e) => e.term)).toEqual([1, 2, 2, 2, 2, 2, 2, 2, 2]);
    expect(again.memoryBytes()).toBe(log.memoryBytes());
    expect(log.memoryBytes()).toBe(9 * 4); // "e1t1", "e2t2", ..., "e9t2"
  });

  it("skips new entries at or below the snapshot index", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: run(1, 5, 1), hardState: { term: 1, vote: 0, commit: 5 } }));
    await inBatch((b) => log.setApplied(4, b));
    await inBatch((b) => log.compact(4, b));
    await persist(log, ready({ entries: [...run(3, 5, 1), ...run(6, 7, 1)] }));
    expect([log.firstIndex(), log.lastIndex()]).toEqual([5, 7]);
    expect(stateOf(await reload())).toEqual(stateOf(log));
  });
});

describe("snapshot from a Ready", () => {
  it("resets the log, deletes stored entries above its index in the same batch, switches applied and generation", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: run(1, 6, 1), hardState: { term: 1, vote: 8, commit: 2 } }));
    await inBatch((b) => log.setApplied(2, b));
    // Ledger state of generation 0 (live) and of generation 1 (staged for the snapshot).
    await inBatch((b) => {
      b.put(Uint8Array.of(...ledgerPrefix(replica, 0), 1), Uint8Array.of(0));
      b.put(Uint8Array.of(...ledgerPrefix(replica, 1), 1), Uint8Array.of(1));
    });
    const snap = snapshotAt(4, 2, [7, 8]);
    await persist(log, ready({ snapshot: snap, entries: run(5, 5, 2), hardState: { term: 2, vote: 0, commit: 4 } }), {
      generation: 1,
    });

    expect([log.firstIndex(), log.lastIndex(), log.applied(), log.generation()]).toEqual([5, 5, 4, 1]);
    expect(log.term(4)).toBe(2);
    expect(log.initialState().confState).toEqual({ voters: [7, 8], learners: [] });
    // The old 5 and 6 (term 1) are gone with that one write; 1..4 await the lazy cleanup.
    expect(await storedEntryIndexes()).toEqual([1, 2, 3, 4, 5]);
    expect(log.pendingCleanup()).toEqual([generationsBelow(replica, 1), entryRange(replica, 1, 4)]);

    const again = await reload();
    expect(stateOf(again)).toEqual(stateOf(log));
    expect(again.term(5)).toBe(2);
    expect(again.pendingCleanup()).toEqual([otherGenerationRanges(replica, 1)[0], entryRange(replica, 1, 4)]);
    await clearPending(again);
    expect(await storedEntryIndexes()).toEqual([5]);
    const ledgerKeys = await db.keys({ gte: ledgerPrefix(replica, 0), lt: ledgerPrefix(replica, 2) }).all();
    expect(ledgerKeys.map((k) => Array.from(k))).toEqual([[...ledgerPrefix(replica, 1), 1]]);
    expect((await reload()).pendingCleanup()).toEqual([]);
  });

  it("past the end of the log leaves nothing above it and raises the commit index", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: run(1, 3, 1), hardState: { term: 3, vote: 0, commit: 1 } }));
    await persist(log, ready({ snapshot: snapshotAt(10, 3) }), { generation: 1 });
    expect(log.hardState()).toEqual({ term: 3, vote: 0, commit: 10 });
    expect([log.firstIndex(), log.lastIndex(), log.entryCount(), log.memoryBytes()]).toEqual([11, 10, 0, 0]);
    expect(stateOf(await reload())).toEqual(stateOf(log));
  });

  it("requires the generation of its staged ledger state, and a newer one", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    expect(() => log.persistReady(ready({ snapshot: snapshotAt(3, 1) }), db.batch())).toThrow(/generation/);
    expect(() => log.persistReady(ready({ snapshot: snapshotAt(3, 1) }), db.batch(), { generation: 0 })).toThrow(
      /generation/,
    );
  });
});

describe("ledger garbage after a crash", () => {
  it("load reports the ledger state of every generation but the live one, and a snapshot may not be staged before that is handed out", async () => {
    await inBatch((b) => {
      b.put(Uint8Array.of(...ledgerPrefix(replica, 0), 1), Uint8Array.of(0)); // live
      b.put(Uint8Array.of(...ledgerPrefix(replica, 1), 1), Uint8Array.of(1)); // a staging cut short by a crash
    });
    const log = await ReplicaLog.load(db, replica, voters);
    expect(() => log.persistReady(ready({ snapshot: snapshotAt(3, 1) }), db.batch(), { generation: 1 })).toThrow(
      /pendingCleanup/,
    );
    expect(log.pendingCleanup()).toEqual([otherGenerationRanges(replica, 0)[0]]);
    await clearPending(log);
    const ledgerKeys = await db.keys({ gte: ledgerPrefix(replica, 0), lt: ledgerPrefix(replica, 2) }).all();
    expect(ledgerKeys.map((k) => Array.from(k))).toEqual([[...ledgerPrefix(replica, 0), 1]]);
    await persist(log, ready({ snapshot: snapshotAt(3, 1), hardState: { term: 1, vote: 0, commit: 3 } }), {
      generation: 1,
    });
    expect(log.generation()).toBe(1);
  });
});

describe("compaction and lazy cleanup", () => {
  it("compact trims memory, leaves the keys for the cleanup, and a crash before the cleanup reports them again", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: run(1, 10, 1), hardState: { term: 1, vote: 7, commit: 10 } }));
    await inBatch((b) => log.setApplied(8, b));
    await inBatch((b) => log.compact(6, b));
    expect([log.firstIndex(), log.lastIndex(), log.entryCount()]).toEqual([7, 10, 4]);
    expect(log.snapshotMetadata()).toEqual({ index: 6, term: 1, confState: { voters, learners: [] } });
    expect(log.pendingCleanup()).toEqual([entryRange(replica, 1, 6)]);
    expect(await storedEntryIndexes()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    // Crash: the cleanup never ran.
    const again = await reload();
    expect(stateOf(again)).toEqual(stateOf(log));
    expect(again.pendingCleanup()).toEqual([entryRange(replica, 1, 6)]);
    await clearPending(again);
    expect(await storedEntryIndexes()).toEqual([7, 8, 9, 10]);
    expect(again.pendingCleanup()).toEqual([]);
    expect((await reload()).pendingCleanup()).toEqual([]);
  });

  it("cleanupDone retires only what was handed out; a compaction in between stays pending", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: run(1, 10, 1), hardState: { term: 1, vote: 7, commit: 10 } }));
    await inBatch((b) => log.setApplied(10, b));
    await inBatch((b) => log.compact(4, b));
    const first = log.pendingCleanup();
    expect(first).toEqual([entryRange(replica, 1, 4)]);
    await inBatch((b) => log.compact(8, b));
    log.cleanupDone();
    expect(log.pendingCleanup()).toEqual([entryRange(replica, 5, 8)]);
  });

  it("refuses to compact past the applied index or not past the snapshot", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: run(1, 5, 1), hardState: { term: 1, vote: 7, commit: 5 } }));
    await inBatch((b) => log.setApplied(3, b));
    expect(() => log.compact(4, db.batch())).toThrow(/applied/);
    expect(() => log.compact(0, db.batch())).toThrow(/snapshot/);
    expect(() => log.setApplied(2, db.batch())).toThrow(/applied index going back/);
    expect(() => log.setApplied(6, db.batch())).toThrow(/past the last index/);
  });
});

describe("corruption", () => {
  it("a gap in the stored entries makes load throw naming the replica and the index", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: run(1, 5, 1), hardState: { term: 1, vote: 7, commit: 1 } }));
    await db.del(entryKey(replica, 3));
    await reopen();
    const loading = ReplicaLog.load(db, replica, voters);
    await expect(loading).rejects.toThrow(ReplicaLogCorruptError);
    await expect(ReplicaLog.load(db, replica, voters)).rejects.toThrow(/replica 7: .*expected entry 3, found entry 4/);
  });

  it("a term going backwards makes load throw naming the replica and the index", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: run(1, 5, 2), hardState: { term: 2, vote: 7, commit: 1 } }));
    // Entry 4 rewritten with term 1 by something other than this code.
    const other = await ReplicaLog.load(db, 99, voters);
    const batch = db.batch();
    other.persistReady(ready({ entries: [...run(1, 3, 1), entry(4, 1)] }), batch);
    await batch.write({ sync: true });
    const forged = await db.get(entryKey(99, 4));
    await db.put(entryKey(replica, 4), forged as Uint8Array);
    await expect(ReplicaLog.load(db, replica, voters)).rejects.toThrow(
      /replica 7: .*entry 4 has term 1 below the term 2/,
    );
  });

  it("a malformed hard state makes load throw naming the replica", async () => {
    await db.put(hardStateKey(replica), Uint8Array.of(1, 2, 3));
    await expect(ReplicaLog.load(db, replica, voters)).rejects.toThrow(/replica 7: .*hard state of 3 bytes/);
  });
});

describe("several replicas in one database", () => {
  it("keep separate logs, state and cleanups", async () => {
    const ids = [1, 2, 256];
    const logs = await Promise.all(ids.map((id) => ReplicaLog.load(db, id, ids)));
    await inBatch((b) => {
      for (const [i, log] of logs.entries()) {
        log.persistReady(
          ready({ entries: run(1, 4 + i, i + 1), hardState: { term: i + 1, vote: ids[i] ?? 0, commit: 3 } }),
          b,
        );
      }
    });
    const [a, b2] = logs as [ReplicaLog, ReplicaLog, ReplicaLog];
    await inBatch((b) => {
      a.setApplied(3, b);
      a.compact(3, b);
      b2.persistReady(ready({ snapshot: snapshotAt(5, 2, ids) }), b, { generation: 1 });
    });
    const writer = new DbWriter(db);
    for (const log of logs) for (const range of log.pendingCleanup()) void writer.clear(range);
    await writer.close();
    const expected = logs.map((log) => stateOf(log));
    await reopen();
    for (const [i, id] of ids.entries()) {
      const again = await ReplicaLog.load(db, id, ids);
      expect(stateOf(again)).toEqual(expected[i]);
      expect(again.pendingCleanup()).toEqual([]);
    }
    expect(await storedEntryIndexes(1)).toEqual([4]);
    expect(await storedEntryIndexes(2)).toEqual([]);
    expect(await storedEntryIndexes(256)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("memory held by the in-memory log", () => {
  it("an appended entry whose data is a view into a larger buffer is kept as its own copy", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    const slab = new Uint8Array(8192).fill(7); // like a slice of Node's shared 8 KiB Buffer pool
    const view = slab.subarray(100, 110);
    await persist(log, ready({ entries: [{ index: 1, term: 1, type: EntryType.Normal, data: view }] }));
    const [kept] = log.entries(1, 2, Number.MAX_SAFE_INTEGER);
    expect(kept?.data).toEqual(view);
    expect(kept?.data.buffer.byteLength).toBe(10);
    slab.fill(0); // the caller's buffer may be reused; the log's copy does not change
    expect(log.entries(1, 2, Number.MAX_SAFE_INTEGER)[0]?.data).toEqual(new Uint8Array(10).fill(7));
  });

  it("heldBytes counts each entry's payload plus a fixed overhead", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: run(1, 9, 1), hardState: { term: 1, vote: 0, commit: 0 } }));
    expect(log.heldBytes()).toBe(9 * 4 + 9 * replicaLogEntryOverheadBytes);
  });

  it("keepTail leaves at most the given entries and bytes at or below its end", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: run(1, 9, 1), hardState: { term: 1, vote: 0, commit: 0 } }));
    const each = 4 + replicaLogEntryOverheadBytes;
    expect(log.keepTail(9, 3, Number.MAX_SAFE_INTEGER)).toBe(6); // keeps 7, 8, 9
    expect(log.keepTail(9, 100, 2 * each)).toBe(7); // keeps 8, 9
    expect(log.keepTail(9, 100, 2 * each - 1)).toBe(8); // one entry's bytes do not fit twice
    expect(log.keepTail(5, 100, Number.MAX_SAFE_INTEGER)).toBe(0); // everything through 5 stays
    expect(log.keepTail(9, 0, Number.MAX_SAFE_INTEGER)).toBe(9);
  });
});

describe("the membership the log keeps", () => {
  const cc = (type: ConfChangeType, replicaId: number): Entry => ({
    index: 0,
    term: 1,
    type: EntryType.ConfChange,
    data: encodeConfChange({ type, replicaId }),
  });
  /** Entries 1..6: a, AddLearner 4 (2), b, AddVoter 4 (4), Remove 5 (5, not a member: skipped), Remove 7 (6). */
  function withChanges(): Entry[] {
    const ents: Entry[] = [
      entry(1, 1),
      cc(ConfChangeType.AddLearner, 4),
      entry(3, 1),
      cc(ConfChangeType.AddVoter, 4),
      cc(ConfChangeType.Remove, 5),
      cc(ConfChangeType.Remove, 7),
    ];
    return ents.map((e, i) => ({ ...e, index: i + 1 }));
  }

  it("moves with the applied index, survives a restart, and skips a change that does not fit", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: withChanges(), hardState: { term: 1, vote: 7, commit: 6 } }));
    expect(log.initialState().confState).toEqual({ voters: [7, 8, 9], learners: [] });
    await inBatch((b) => log.setApplied(3, b));
    expect(log.initialState().confState).toEqual({ voters: [7, 8, 9], learners: [4] });
    await inBatch((b) => log.setApplied(6, b));
    expect(log.initialState().confState).toEqual({ voters: [4, 8, 9], learners: [] });
    const again = await reload();
    expect(again.initialState().confState).toEqual({ voters: [4, 8, 9], learners: [] });
    expect(again.confStateAt(4)).toEqual({ voters: [4, 7, 8, 9], learners: [] });
  });

  it("a compaction's snapshot carries the membership at its own index, not the latest", async () => {
    const log = await ReplicaLog.load(db, replica, voters);
    await persist(log, ready({ entries: withChanges(), hardState: { term: 1, vote: 7, commit: 6 } }));
    await inBatch((b) => log.setApplied(6, b));
    await inBatch((b) => log.compact(3, b));
    expect(log.snapshotMetadata().confState).toEqual({ voters: [7, 8, 9], learners: [4] });
    expect(log.initialState().confState).toEqual({ voters: [4, 8, 9], learners: [] });
    const again = await reload();
    expect(again.snapshotMetadata().confState).toEqual({ voters: [7, 8, 9], learners: [4] });
    expect(again.initialState().confState).toEqual({ voters: [4, 8, 9], learners: [] });
    expect(() => again.confStateAt(2)).toThrow(/outside \[3, 6\]/);
  });
});
