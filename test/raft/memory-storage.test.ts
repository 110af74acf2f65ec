// MemoryStorage: the read contract the core relies on and the write side drivers use.

import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import { EntryType, RaftError } from "../../src/raft/types.js";
import type { Entry } from "../../src/raft/types.js";

function e(term: number, index: number, data = ""): Entry {
  return { term, index, type: EntryType.Normal, data: Uint8Array.from(data, (c) => c.charCodeAt(0)) };
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof RaftError) return err.code;
    throw err;
  }
  return "none";
}

describe("MemoryStorage", () => {
  it("starts empty: first index 1, last index 0, term(0) = 0", () => {
    const s = new MemoryStorage();
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.term(0)).toBe(0);
    expect(s.initialState().hardState).toEqual({ term: 0, vote: 0, commit: 0 });
  });

  it("append truncates a conflicting suffix and refuses gaps", () => {
    const s = new MemoryStorage();
    s.append([e(1, 1), e(1, 2), e(1, 3)]);
    s.append([e(2, 2)]);
    expect(s.lastIndex()).toBe(2);
    expect(s.term(2)).toBe(2);
    expect(() => s.append([e(2, 5)])).toThrow();
  });

  it("entries honours the byte limit and reports COMPACTED / UNAVAILABLE", () => {
    const s = new MemoryStorage();
    s.append([e(1, 1, "aaa"), e(1, 2, "bbb"), e(1, 3, "ccc")]);
    expect(s.entries(1, 4, 6).map((x) => x.index)).toEqual([1, 2]);
    expect(s.entries(1, 4, 1).map((x) => x.index)).toEqual([1]);
    expect(code(() => s.entries(1, 5, 100))).toBe("UNAVAILABLE");
    expect(code(() => s.term(4))).toBe("UNAVAILABLE");
    s.createSnapshot(2, { voters: [1, 2, 3], learners: [] }, new Uint8Array([9]));
    s.compact(2);
    expect(code(() => s.entries(2, 3, 100))).toBe("COMPACTED");
    expect(code(() => s.term(1))).toBe("COMPACTED");
    expect(s.term(2)).toBe(1); // the snapshot's entry keeps its term
    expect(s.firstIndex()).toBe(3);
    expect(s.initialState().confState.voters).toEqual([1, 2, 3]);
  });

  it("append skips entries that are already compacted", () => {
    const s = new MemoryStorage();
    s.append([e(1, 1), e(1, 2), e(1, 3)]);
    s.createSnapshot(2, { voters: [1], learners: [] }, new Uint8Array());
    s.compact(2);
    s.append([e(1, 1), e(1, 2), e(1, 3), e(1, 4)]);
    expect(s.firstIndex()).toBe(3);
    expect(s.lastIndex()).toBe(4);
  });

  it("applySnapshot replaces the log and refuses an older snapshot", () => {
    const s = new MemoryStorage();
    s.append([e(1, 1), e(1, 2)]);
    const snap = {
      metadata: { index: 10, term: 4, confState: { voters: [1, 2], learners: [] } },
      data: new Uint8Array(),
    };
    s.applySnapshot(snap);
    expect(s.firstIndex()).toBe(11);
    expect(s.lastIndex()).toBe(10);
    expect(s.term(10)).toBe(4);
    expect(s.snapshot()).toBe(snap);
    expect(code(() => s.applySnapshot({ ...snap, metadata: { ...snap.metadata, index: 9 } }))).toBe(
      "SNAPSHOT_OUT_OF_DATE",
    );
    expect(code(() => s.createSnapshot(10, { voters: [1], learners: [] }, new Uint8Array()))).toBe(
      "SNAPSHOT_OUT_OF_DATE",
    );
  });

  it("clone is independent of later writes", () => {
    const s = new MemoryStorage();
    s.append([e(1, 1)]);
    s.setHardState({ term: 1, vote: 1, commit: 1 });
    const c = s.clone();
    s.append([e(2, 2)]);
    s.setHardState({ term: 2, vote: 0, commit: 1 });
    expect(c.lastIndex()).toBe(1);
    expect(c.initialState().hardState).toEqual({ term: 1, vote: 1, commit: 1 });
  });
});
