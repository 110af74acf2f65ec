// RaftLog: the stable + unstable view, term lookups, conflict detection, maybeAppend, commit.

import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/assert.js";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import { RaftLog } from "../../src/raft/raft-log.js";
import { EntryType, RaftError } from "../../src/raft/types.js";
import type { Entry } from "../../src/raft/types.js";

function e(term: number, index: number, data = ""): Entry {
  return { term, index, type: EntryType.Normal, data: Uint8Array.from(data, (c) => c.charCodeAt(0)) };
}

/** Log with `stable` in storage and `unstable` appended in memory. */
function log(stable: Entry[], unstable: Entry[] = []): RaftLog {
  const s = new MemoryStorage();
  s.append(stable);
  const l = new RaftLog(s);
  l.append(unstable);
  return l;
}

const terms = (l: RaftLog): number[] => {
  const out: number[] = [];
  for (let i = l.firstIndex(); i <= l.lastIndex(); i++) out.push(l.term(i));
  return out;
};

describe("RaftLog", () => {
  it("looks terms up across storage and the unstable tail", () => {
    const l = log([e(1, 1), e(1, 2)], [e(2, 3), e(3, 4)]);
    expect(terms(l)).toEqual([1, 1, 2, 3]);
    expect(l.lastIndex()).toBe(4);
    expect(l.lastTerm()).toBe(3);
    expect(l.term(0)).toBe(0);
    expect(() => l.term(5)).toThrow(RaftError);
    expect(l.termOrZero(5)).toBe(0);
  });

  it("throws COMPACTED below the snapshot and answers the snapshot's term at firstIndex - 1", () => {
    const s = new MemoryStorage();
    s.append([e(1, 1), e(1, 2), e(2, 3), e(2, 4)]);
    s.createSnapshot(3, { voters: [1], learners: [] }, new Uint8Array());
    s.compact(3);
    const l = new RaftLog(s);
    expect(l.firstIndex()).toBe(4);
    expect(l.term(3)).toBe(2);
    try {
      l.term(2);
      expect.unreachable();
    } catch (err) {
      expect((err as RaftError).code).toBe("COMPACTED");
    }
    expect(l.committed).toBe(3);
    expect(l.applied).toBe(3);
  });

  it("findConflict returns the first index whose term differs or that is missing", () => {
    const l = log([e(1, 1), e(2, 2), e(3, 3)]);
    expect(l.findConflict([])).toBe(0);
    expect(l.findConflict([e(1, 1), e(2, 2), e(3, 3)])).toBe(0);
    expect(l.findConflict([e(2, 2), e(3, 3), e(4, 4)])).toBe(4);
    expect(l.findConflict([e(1, 1), e(4, 2)])).toBe(2);
    expect(l.findConflict([e(4, 3), e(4, 4)])).toBe(3);
  });

  it("maybeAppend rejects when the previous entry does not match", () => {
    const l = log([e(1, 1), e(2, 2)]);
    expect(l.maybeAppend(2, 1, 2, [e(3, 3)])).toBe(-1);
    expect(l.maybeAppend(3, 2, 2, [e(3, 4)])).toBe(-1);
    expect(l.lastIndex()).toBe(2);
  });

  it("maybeAppend appends, truncates a conflicting suffix and commits min(leader commit, last new)", () => {
    const l = log([e(1, 1), e(1, 2)], [e(1, 3), e(1, 4)]);
    expect(l.maybeAppend(2, 1, 10, [e(2, 3)])).toBe(3);
    expect(terms(l)).toEqual([1, 1, 2]);
    expect(l.committed).toBe(3);
    // Duplicate delivery of an older append does not truncate what followed it.
    expect(l.maybeAppend(1, 1, 3, [e(1, 2)])).toBe(2);
    expect(l.lastIndex()).toBe(3);
  });

  it("maybeAppend commits no further than the append's last entry, even when the log is longer", () => {
    // Entries past the append were never checked against the leader's log: they may be a stale
    // tail from an old term that the leader's log does not have, so they must not commit.
    const l = log([e(1, 1), e(1, 2), e(1, 3), e(1, 4), e(1, 5)]);
    expect(l.maybeAppend(1, 1, 5, [e(1, 2)])).toBe(2);
    expect(l.committed).toBe(2);
    expect(l.lastIndex()).toBe(5);
  });

  it("refuses (asserts) to truncate a committed entry", () => {
    const l = log([e(1, 1), e(1, 2), e(1, 3)]);
    l.commitTo(3);
    expect(() => l.maybeAppend(1, 1, 3, [e(2, 2)])).toThrow(AssertionError);
  });

  it("never moves commit backwards and never past the last index", () => {
    const l = log([e(1, 1), e(1, 2)]);
    l.commitTo(2);
    l.commitTo(1);
    expect(l.committed).toBe(2);
    expect(() => l.commitTo(3)).toThrow(AssertionError);
  });

  it("maybeCommit commits only an entry of the given term", () => {
    const l = log([e(1, 1), e(1, 2), e(2, 3)]);
    expect(l.maybeCommit(2, 2)).toBe(false);
    expect(l.committed).toBe(0);
    expect(l.maybeCommit(3, 2)).toBe(true);
    expect(l.committed).toBe(3);
  });

  it("findConflictByTerm skips back to the last index whose term is <= the given term", () => {
    const l = log([e(1, 1), e(1, 2), e(2, 3), e(2, 4), e(4, 5), e(4, 6), e(4, 7)]);
    expect(l.findConflictByTerm(7, 3)).toEqual({ index: 4, term: 2 });
    expect(l.findConflictByTerm(7, 4)).toEqual({ index: 7, term: 4 });
    expect(l.findConflictByTerm(6, 1)).toEqual({ index: 2, term: 1 });
    expect(l.findConflictByTerm(5, 0)).toEqual({ index: 0, term: 0 });
    expect(l.findConflictByTerm(9, 1)).toEqual({ index: 9, term: 0 });
  });

  it("isUpToDate compares last term first, then length", () => {
    const l = log([e(1, 1), e(2, 2), e(2, 3)]);
    expect(l.isUpToDate(1, 3)).toBe(true);
    expect(l.isUpToDate(10, 1)).toBe(false);
    expect(l.isUpToDate(3, 2)).toBe(true);
    expect(l.isUpToDate(2, 2)).toBe(false);
  });

  it("slices across the storage/unstable boundary and honours the byte limit (at least one entry)", () => {
    const l = log([e(1, 1, "aa"), e(1, 2, "bb")], [e(1, 3, "cc"), e(1, 4, "dd")]);
    expect(l.slice(1, 5, 100).map((x) => x.index)).toEqual([1, 2, 3, 4]);
    expect(l.slice(2, 4, 4).map((x) => x.index)).toEqual([2, 3]);
    expect(l.slice(1, 5, 5).map((x) => x.index)).toEqual([1, 2]);
    expect(l.slice(3, 5, 0).map((x) => x.index)).toEqual([3]);
    expect(l.entries(5, 100)).toEqual([]);
  });

  it("hands out committed entries once, from applied + 1", () => {
    const l = log([e(1, 1), e(1, 2), e(1, 3)]);
    expect(l.hasNextCommittedEntries()).toBe(false);
    l.commitTo(2);
    expect(l.nextCommittedEntries(100).map((x) => x.index)).toEqual([1, 2]);
    l.appliedTo(2);
    expect(l.hasNextCommittedEntries()).toBe(false);
    expect(() => l.appliedTo(3)).toThrow(AssertionError);
  });

  it("stableTo moves entries out of the unstable tail unless they were replaced", () => {
    const l = log([e(1, 1)], [e(1, 2), e(1, 3)]);
    l.stableTo(3, 2); // wrong term: the entry at 3 is not the one persisted
    expect(l.unstableEntries().length).toBe(2);
    l.stableTo(2, 1);
    expect(l.unstableEntries().map((x) => x.index)).toEqual([3]);
  });

  it("restore replaces the log by a snapshot", () => {
    const l = log([e(1, 1), e(1, 2)]);
    l.restore({
      metadata: { index: 10, term: 3, confState: { voters: [1, 2, 3], learners: [] } },
      data: new Uint8Array(),
    });
    expect(l.firstIndex()).toBe(11);
    expect(l.lastIndex()).toBe(10);
    expect(l.term(10)).toBe(3);
    expect(l.committed).toBe(10);
  });
});
