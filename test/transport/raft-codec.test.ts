import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/assert.js";
import { LedgerError } from "../../src/base/errors.js";
import * as pb from "../../src/gen/raft/v1/raft_pb.js";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import { newMessage } from "../../src/raft/messages.js";
import { RawNode } from "../../src/raft/raw-node.js";
import { EntryType, MessageType, type Entry, type Message } from "../../src/raft/types.js";
import {
  confStateFromProto,
  confStateToProto,
  entryFromProto,
  entryToProto,
  hardStateFromProto,
  hardStateToProto,
  messageFromProto,
  messageToProto,
  snapshotMetadataFromProto,
  snapshotMetadataToProto,
} from "../../src/transport/raft-codec.js";
import { testRaftConfig } from "../raft/support/cluster.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const big = Number.MAX_SAFE_INTEGER;

function entries(after: number, n: number, term: number): Entry[] {
  return Array.from({ length: n }, (_, i) => ({
    term,
    index: after + 1 + i,
    type: i === 0 ? EntryType.ConfChange : EntryType.Normal,
    data: bytes(`cmd-${i}`),
  }));
}

/** One realistic message of every type, with every field the type uses set to non-defaults. */
function sampleOf(type: MessageType): Message {
  const m = newMessage(type, 2, 3, 7);
  switch (type) {
    case MessageType.Append:
      return { ...m, logTerm: 6, index: 41, entries: entries(41, 3, 7), commit: 40 };
    case MessageType.AppendResponse:
      return { ...m, index: 44, reject: true, rejectHint: 30, hintTerm: 5 };
    case MessageType.Vote:
    case MessageType.PreVote:
      return { ...m, logTerm: 6, index: 44, context: bytes("CampaignTransfer") };
    case MessageType.VoteResponse:
    case MessageType.PreVoteResponse:
      return { ...m, reject: true };
    case MessageType.Heartbeat:
      return { ...m, commit: 40, context: bytes("round-9") };
    case MessageType.HeartbeatResponse:
      return { ...m, context: bytes("round-9") };
    case MessageType.Snapshot:
      return {
        ...m,
        snapshot: {
          metadata: { index: big, term: 6, confState: { voters: [1, 2, 3], learners: [4] } },
          data: bytes("state"),
        },
      };
    case MessageType.TimeoutNow:
      return m;
    case MessageType.ReadIndex:
      return { ...m, term: 0, context: bytes("read-1") };
    case MessageType.ReadIndexResponse:
      return { ...m, index: 44, context: bytes("read-1") };
    case MessageType.TransferLeader:
      return { ...m, term: 0, index: 3 };
  }
}

const allTypes = Object.values(MessageType).filter((v): v is MessageType => typeof v === "number");

/** Through the real wire bytes, as a peer would send it. */
function overTheWire(m: Message): pb.Message {
  return fromBinary(pb.MessageSchema, toBinary(pb.MessageSchema, messageToProto(m)));
}

function rejection(fn: () => unknown): LedgerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LedgerError);
    expect((e as LedgerError).code).toBe("INVALID_ARGUMENT");
    return e as LedgerError;
  }
  throw new Error("expected a rejection");
}

function wire(m: Message, change: (p: pb.Message) => void): pb.Message {
  const p = overTheWire(m);
  change(p);
  return p;
}

describe("raft codec round trips", () => {
  it.each(allTypes.map((t) => [MessageType[t], t] as const))(
    "a %s message survives encode, wire bytes and decode unchanged",
    (_name, type) => {
      const m = sampleOf(type);
      expect(messageFromProto(overTheWire(m), "m")).toEqual(m);
    },
  );

  it("covers all 13 message types", () => {
    expect(allTypes).toHaveLength(13);
  });

  it("round-trips entries, hard state, snapshot metadata and conf state on their own", () => {
    const e: Entry = { term: big, index: big, type: EntryType.Normal, data: bytes("x") };
    expect(entryFromProto(entryToProto(e), "e")).toEqual(e);
    const hs = { term: 9, vote: 2, commit: big };
    expect(hardStateFromProto(hardStateToProto(hs), "hs")).toEqual(hs);
    const md = { index: 10, term: 3, confState: { voters: [1, 2, 3], learners: [] } };
    expect(snapshotMetadataFromProto(snapshotMetadataToProto(md), "md")).toEqual(md);
    expect(confStateFromProto(confStateToProto(md.confState), "cs")).toEqual(md.confState);
  });

  it("copies the context out of a received Buffer but keeps entry data as a plain view into it", () => {
    const p = overTheWire(sampleOf(MessageType.Append));
    const received = Buffer.from("ctx-and-data");
    p.context = received.subarray(0, 3);
    p.entries[0]!.data = received.subarray(8);
    const m = messageFromProto(p, "m");
    received[0] = 0x58; // the received buffer is reused: the context must not change
    expect(m.context).toEqual(bytes("ctx"));
    expect(m.context.constructor).toBe(Uint8Array);
    expect(m.entries[0]!.data.constructor).toBe(Uint8Array);
    expect(m.entries[0]!.data.buffer).toBe(received.buffer);
    expect(m.entries[0]!.data).toEqual(bytes("data"));
  });
});

describe("raft codec rejects what the core cannot hold, naming the field", () => {
  const heartbeat = sampleOf(MessageType.Heartbeat);
  const append = sampleOf(MessageType.Append);
  const snap = sampleOf(MessageType.Snapshot);
  const above = BigInt(Number.MAX_SAFE_INTEGER) + 1n;

  it.each([
    ["to", (p: pb.Message) => (p.to = above)],
    ["from", (p: pb.Message) => (p.from = above)],
    ["term", (p: pb.Message) => (p.term = above)],
    ["log_term", (p: pb.Message) => (p.logTerm = above)],
    ["index", (p: pb.Message) => (p.index = above)],
    ["commit", (p: pb.Message) => (p.commit = above)],
    ["reject_hint", (p: pb.Message) => (p.rejectHint = above)],
    ["hint_term", (p: pb.Message) => (p.hintTerm = above)],
  ])("a uint64 above 2^53-1 in %s", (field, change) => {
    const e = rejection(() => messageFromProto(wire(heartbeat, change), "messages[4].message"));
    expect(e.message).toMatch(new RegExp(`^messages\\[4\\]\\.message\\.${field} is ${above}`));
  });

  it("a uint64 above 2^53-1 in an entry's term or index", () => {
    expect(
      rejection(() =>
        messageFromProto(
          wire(append, (p) => (p.entries[1]!.term = above)),
          "m",
        ),
      ).message,
    ).toMatch(/^m\.entries\[1\]\.term /);
    expect(rejection(() => entryFromProto({ ...entryToProto(append.entries[0]!), index: above }, "e")).message).toMatch(
      /^e\.index /,
    );
  });

  it("a uint64 above 2^53-1 in snapshot metadata and hard state", () => {
    const e = rejection(() =>
      messageFromProto(
        wire(snap, (p) => (p.snapshot!.metadata!.term = above)),
        "m",
      ),
    );
    expect(e.message).toMatch(/^m\.snapshot\.metadata\.term /);
    expect(
      rejection(() => hardStateFromProto({ ...hardStateToProto({ term: 1, vote: 1, commit: 1 }), vote: above }, "hs"))
        .message,
    ).toMatch(/^hs\.vote /);
  });

  it("an unknown or unspecified message type", () => {
    expect(
      rejection(() =>
        messageFromProto(
          wire(heartbeat, (p) => (p.type = 14 as pb.MessageType)),
          "m",
        ),
      ).message,
    ).toMatch(/^m\.type is not a known MessageType: 14/);
    expect(
      rejection(() =>
        messageFromProto(
          wire(heartbeat, (p) => (p.type = pb.MessageType.UNSPECIFIED)),
          "m",
        ),
      ).message,
    ).toMatch(/^m\.type /);
  });

  it("an unknown or unspecified entry type", () => {
    expect(
      rejection(() =>
        messageFromProto(
          wire(append, (p) => (p.entries[2]!.type = 7 as pb.EntryType)),
          "m",
        ),
      ).message,
    ).toMatch(/^m\.entries\[2\]\.type is not a known EntryType: 7/);
    expect(
      rejection(() =>
        messageFromProto(
          wire(append, (p) => (p.entries[0]!.type = pb.EntryType.UNSPECIFIED)),
          "m",
        ),
      ).message,
    ).toMatch(/^m\.entries\[0\]\.type /);
  });

  it("a Snapshot message without a snapshot, metadata or conf state", () => {
    expect(
      rejection(() =>
        messageFromProto(
          wire(snap, (p) => (p.snapshot = undefined)),
          "m",
        ),
      ).message,
    ).toMatch(/^m\.snapshot is missing/);
    expect(
      rejection(() =>
        messageFromProto(
          wire(snap, (p) => (p.snapshot!.metadata = undefined)),
          "m",
        ),
      ).message,
    ).toMatch(/^m\.snapshot\.metadata is missing/);
    expect(
      rejection(() =>
        messageFromProto(
          wire(snap, (p) => (p.snapshot!.metadata!.confState = undefined)),
          "m",
        ),
      ).message,
    ).toMatch(/^m\.snapshot\.metadata\.conf_state is missing/);
  });

  it("a zero replica id in to, from or a voter", () => {
    expect(
      rejection(() =>
        messageFromProto(
          wire(heartbeat, (p) => (p.to = 0n)),
          "m",
        ),
      ).message,
    ).toMatch(/^m\.to must be a replica id/);
    expect(
      rejection(() =>
        messageFromProto(
          wire(heartbeat, (p) => (p.from = 0n)),
          "m",
        ),
      ).message,
    ).toMatch(/^m\.from must be a replica id/);
    const e = rejection(() =>
      messageFromProto(
        wire(snap, (p) => (p.snapshot!.metadata!.confState!.voters[1] = 0n)),
        "m",
      ),
    );
    expect(e.message).toMatch(/^m\.snapshot\.metadata\.conf_state\.voters\[1\] must be a replica id/);
  });

  it("entries on a message type that carries none (a Heartbeat), in any order", () => {
    // Only an Append's entries are checked for contiguity: any other type must carry none, or
    // a peer could pass arbitrary entries (up to a 4 MB message of 2-byte empty entries, about
    // two million objects per decode) on to the node and the core.
    const wire = messageToProto(heartbeat);
    wire.entries = messageToProto({
      ...heartbeat,
      entries: [
        { term: 9, index: 7, type: EntryType.Normal, data: new Uint8Array(0) },
        { term: 1, index: 3, type: EntryType.Normal, data: new Uint8Array(0) },
      ],
    }).entries;
    expect(rejection(() => messageFromProto(wire, "messages[0].message")).message).toMatch(/entries/);
  });

  it("append entries that do not follow index consecutively", () => {
    const e = rejection(() =>
      messageFromProto(
        wire(append, (p) => (p.entries[1]!.index = 50n)),
        "m",
      ),
    );
    expect(e.message).toMatch(/^m\.entries\[1\]\.index is 50, expected 43/);
    expect(e.details.field).toBe("m.entries[1].index");
  });
});

// What the codec accepts reaches the node's filter and then the Raft core; a broken invariant
// there stops the whole node (NodeHost rethrows an AssertionError and the loop reports it fatal),
// so the core must refuse such a message, not trip on it.
describe("a follower takes what the codec accepts without tripping an assertion", () => {
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

  it.each([
    { what: "at the follower's term", term: 1, commit: 1_000 },
    { what: "with a higher term", term: 5, commit: 3 },
  ])("a Heartbeat $what whose commit is past the follower's last index is ignored", ({ term, commit }) => {
    const node = follower();
    // Decoding accepts it: commit is a valid uint64 (the codec checks only the number range).
    const message = messageFromProto(
      messageToProto({ ...newMessage(MessageType.Heartbeat, 1, 2, term), commit }),
      "messages[0].message",
    );
    let thrown: unknown;
    try {
      node.step(message);
    } catch (e) {
      thrown = e;
    }
    // Moving the commit there would assert "commit N is past the last index 2".
    expect(thrown instanceof AssertionError ? `AssertionError: ${thrown.message}` : thrown).toBeUndefined();
    expect(node.status().hardState.commit).toBeLessThanOrEqual(node.status().lastIndex);
  });
});
