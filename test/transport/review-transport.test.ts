// Review of the node-to-node transport (issue 4): messages that pass the raft codec and the
// node's address filter (node-host.ts deliver) but that the Raft core cannot take without
// breaking an invariant. A broken invariant stops the whole node (node-host.ts stepSafely
// rethrows AssertionError; the loop calls onFatal), so one such message from a peer is enough
// to take a node down.

import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/assert.js";
import type * as pb from "../../src/gen/raft/v1/raft_pb.js";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import { RawNode } from "../../src/raft/raw-node.js";
import { EntryType, MessageType } from "../../src/raft/types.js";
import { messageFromProto, messageToProto } from "../../src/transport/raft-codec.js";
import { testRaftConfig } from "../raft/support/cluster.js";

/** A follower (replica 2 of 1..3) that holds entries 1..2 of term 1, commit 1. */
function follower(): RawNode {
  const storage = new MemoryStorage();
  storage.append([
    { term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array([1]) },
    { term: 1, index: 2, type: EntryType.Normal, data: new Uint8Array([2]) },
  ]);
  storage.setHardState({ term: 1, vote: 1, commit: 1 });
  return new RawNode(testRaftConfig(2, { peers: [1, 2, 3], checkQuorum: true, preVote: true }), storage);
}

/** A heartbeat as it arrives on the wire from replica 1 of the same shard (so deliver() accepts it). */
function wireHeartbeat(term: number, commit: number): pb.Message {
  return messageToProto({
    type: MessageType.Heartbeat,
    to: 2,
    from: 1,
    term,
    logTerm: 0,
    index: 0,
    entries: [],
    commit,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: new Uint8Array(0),
  });
}

describe("review: a peer message the codec accepts must not trip a Raft assertion", () => {
  it.each([
    { what: "at the follower's term", term: 1, commit: 1_000 },
    { what: "with a higher term", term: 5, commit: 3 },
  ])(
    "a Heartbeat $what whose commit is past the follower's last index is ignored, not an AssertionError that stops the node",
    ({ term, commit }) => {
      const node = follower();
      // Decoding accepts it: commit is a valid uint64 (the codec checks only the number range).
      const message = messageFromProto(wireHeartbeat(term, commit), "messages[0].message");
      let thrown: unknown;
      try {
        node.step(message);
      } catch (e) {
        thrown = e;
      }
      // Before the fix, raft-log.ts commitTo asserted "commit N is past the last index 2".
      expect(thrown instanceof AssertionError ? `AssertionError: ${thrown.message}` : thrown).toBeUndefined();
      expect(node.status().hardState.commit).toBeLessThanOrEqual(node.status().lastIndex);
    },
  );
});

describe("review: the raft codec checks the shape of every message", () => {
  it("the codec refuses entries on a message type that carries none (a Heartbeat), instead of passing them on unchecked", () => {
    const wire = wireHeartbeat(1, 1);
    // Entries with no index order at all: only Append entries are checked for contiguity.
    wire.entries = messageToProto({
      ...messageFromProto(wireHeartbeat(1, 1), "m"),
      entries: [
        { term: 9, index: 7, type: EntryType.Normal, data: new Uint8Array(0) },
        { term: 1, index: 3, type: EntryType.Normal, data: new Uint8Array(0) },
      ],
    }).entries;
    // Before the fix: raft-codec.ts entriesFromProto validates order only when type is Append, so
    // any other type carries arbitrary entries (up to a 4 MB message of 2-byte empty entries,
    // about two million objects per decode) into node-host deliver() and the core.
    expect(() => messageFromProto(wire, "messages[0].message")).toThrow(/entries/);
  });
});
