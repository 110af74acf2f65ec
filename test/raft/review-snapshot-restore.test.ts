// Review: how a follower treats an incoming snapshot. It never goes backwards (a snapshot at or
// below its commit is ignored), never truncates entries it already holds (a snapshot whose last
// entry it has only advances the commit), and otherwise replaces its whole log, with commit and
// (after the Ready) applied at the snapshot index and no pre-snapshot entry handed out.

import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import { newMessage } from "../../src/raft/messages.js";
import { RawNode } from "../../src/raft/raw-node.js";
import { testRaftConfig } from "./support/cluster.js";
import { EntryType, MessageType } from "../../src/raft/types.js";
import type { Entry, Message, RaftConfig, Snapshot } from "../../src/raft/types.js";

const config = (id: number): RaftConfig => testRaftConfig(id);

function log(...terms: number[]): Entry[] {
  return terms.map((term, i) => ({ term, index: i + 1, type: EntryType.Normal, data: new Uint8Array([i + 1]) }));
}

/** Follower 2 at term 3 holding `entries`, committed (and applied) at `commit`. */
function follower(entries: Entry[], commit: number): { node: RawNode; storage: MemoryStorage } {
  const storage = new MemoryStorage();
  storage.append(entries);
  storage.setHardState({ term: 3, vote: 1, commit });
  return { node: new RawNode({ ...config(2), applied: commit }, storage), storage };
}

function snapshotMsg(index: number, term: number): Message {
  const m = newMessage(MessageType.Snapshot, 1, 2, 3);
  const snap: Snapshot = {
    metadata: { index, term, confState: { voters: [1, 2, 3], learners: [] } },
    data: new Uint8Array([9]),
  };
  m.snapshot = snap;
  return m;
}

describe("review: follower snapshot restore", () => {
  it("ignores a snapshot at or below its commit and answers with its commit", () => {
    const { node } = follower(log(1, 1, 2, 2, 3), 4);
    node.step(snapshotMsg(3, 2));
    const rd = node.ready();
    expect(rd.snapshot).toBeUndefined();
    expect(rd.entries).toEqual([]);
    expect(rd.messages.map((m) => [m.type, m.index, m.reject])).toEqual([[MessageType.AppendResponse, 4, false]]);
    node.advance(rd);
    expect(node.status().lastIndex).toBe(5);
    expect(node.status().hardState.commit).toBe(4);
  });

  it("keeps its log when it already holds the snapshot's last entry, and only advances the commit", () => {
    const { node } = follower(log(1, 1, 2, 2, 3, 3), 2);
    node.step(snapshotMsg(5, 3));
    const rd = node.ready();
    expect(rd.snapshot).toBeUndefined();
    expect(rd.hardState?.commit).toBe(5);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([3, 4, 5]);
    expect(rd.messages.map((m) => [m.type, m.index])).toEqual([[MessageType.AppendResponse, 5]]);
    node.advance(rd);
    expect(node.status().lastIndex).toBe(6); // entry 6 after the snapshot point survives
  });

  it("replaces a conflicting log: commit and applied at the snapshot index, nothing older handed out", () => {
    const { node, storage } = follower(log(1, 1, 2, 2, 2, 2), 2);
    node.step(snapshotMsg(5, 3)); // our entry 5 has term 2: conflict
    const rd = node.ready();
    expect(rd.snapshot?.metadata.index).toBe(5);
    expect(rd.hardState?.commit).toBe(5);
    expect(rd.entries).toEqual([]);
    expect(rd.committedEntries).toEqual([]);
    expect(rd.messages.map((m) => [m.type, m.index])).toEqual([[MessageType.AppendResponse, 5]]);
    storage.applySnapshot(rd.snapshot as Snapshot);
    storage.setHardState(rd.hardState ?? { term: 0, vote: 0, commit: 0 });
    node.advance(rd);
    const st = node.status();
    expect([st.lastIndex, st.applied, st.hardState.commit]).toEqual([5, 5, 5]);
    expect(node.hasReady()).toBe(false);
    // A duplicate of the same snapshot is now at the commit: ignored.
    node.step(snapshotMsg(5, 3));
    const rd2 = node.ready();
    expect(rd2.snapshot).toBeUndefined();
    node.advance(rd2);
  });
});
