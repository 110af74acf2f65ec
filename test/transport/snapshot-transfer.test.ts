import { ChannelCredentials, Client, Metadata } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { RaftTransportService, type InstallSnapshotRequest } from "../../src/gen/ledger/node/v1/node_pb.js";
import { newMessage } from "../../src/raft/messages.js";
import { MessageType, type Message } from "../../src/raft/types.js";
import { channelOptions, methodPath, serviceDefinition } from "../../src/transport/grpc-service.js";
import { messageToProto } from "../../src/transport/raft-codec.js";
import type { SnapshotSink } from "../../src/transport/peer-server.js";
import { SnapshotDigest, type SnapshotPairBytes } from "../../src/transport/snapshot-format.js";
import { sendSnapshot } from "../../src/transport/snapshot-stream.js";
import { snapshotChunkBytesMax, snapshotKeyBytesMax } from "../../src/transport/limits.js";
import { fromServiceError } from "../../src/transport/status.js";
import { Closers, configVersion, startTransportServer, type TransportServer } from "./peer-harness.js";
import { ledgerRejection as rejectionOf } from "../support/rejection.js";
import { insecureChannel } from "../../src/transport/channel-security.js";

const closers = new Closers();
afterEach(() => closers.closeAll());

const snapMessage: Message = {
  ...newMessage(MessageType.Snapshot, 1, 2, 4),
  snapshot: {
    metadata: { index: 900, term: 4, confState: { voters: [1, 2, 3], learners: [] } },
    data: new Uint8Array([1, 2, 3]),
  },
};

function pairAt(i: number): SnapshotPairBytes {
  const key = new Uint8Array(12);
  new DataView(key.buffer).setUint32(8, i);
  return { key, value: new Uint8Array(200).fill(i % 251) };
}

function samePair(a: SnapshotPairBytes, b: SnapshotPairBytes): boolean {
  return Buffer.compare(a.key, b.key) === 0 && Buffer.compare(a.value, b.value) === 0;
}

async function* pairs(n: number): AsyncGenerator<SnapshotPairBytes> {
  for (let i = 0; i < n; i++) yield pairAt(i);
}

/** A sink that records every call; writes take a macrotask, like a disk. */
class RecordingSink implements SnapshotSink {
  readonly pairs: SnapshotPairBytes[] = [];
  writes = 0;
  commits = 0;
  aborts: string[] = [];
  pending = 0;
  maxPending = 0;
  begun: { from: string; shardId: string; message: Message } | undefined;
  private onWrite: (() => void) | undefined;
  readonly aborted: Promise<string>;
  private resolveAborted!: (reason: string) => void;

  constructor(onWrite?: () => void) {
    this.onWrite = onWrite;
    this.aborted = new Promise((resolve) => (this.resolveAborted = resolve));
  }

  async write(pairs: SnapshotPairBytes[]): Promise<void> {
    this.pending++;
    this.maxPending = Math.max(this.maxPending, this.pending);
    this.writes++;
    for (const p of pairs) this.pairs.push({ key: new Uint8Array(p.key), value: new Uint8Array(p.value) });
    this.onWrite?.();
    await new Promise((r) => setImmediate(r));
    this.pending--;
  }
  async commit(): Promise<void> {
    this.commits++;
  }
  async abort(reason: string): Promise<void> {
    this.aborts.push(reason);
    this.resolveAborted(reason);
  }
}

async function serverWith(sink: RecordingSink): Promise<TransportServer> {
  return closers.add(
    await startTransportServer({
      beginSnapshot: (from, shardId, message) => {
        sink.begun = { from, shardId, message };
        return sink;
      },
    }),
    (s) => s.stop(),
  );
}

function send(address: string, source: AsyncIterable<SnapshotPairBytes>, signal?: AbortSignal): Promise<void> {
  return sendSnapshot({
    address,
    channel: insecureChannel,
    selfNodeId: "n1",
    configVersion,
    shardId: "s05",
    message: snapMessage,
    pairs: source,
    signal,
    deadlineMs: Date.now() + 20_000,
  });
}

/** Writes requests on InstallSnapshot as a (possibly broken) peer would; resolves with the outcome. */
function rawInstall(address: string, requests: InstallSnapshotRequest["kind"][]): Promise<LedgerError | undefined> {
  const client = closers.add(new Client(address, ChannelCredentials.createInsecure(), channelOptions), (c) =>
    c.close(),
  );
  const def = serviceDefinition(RaftTransportService).installSnapshot!;
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest(
      methodPath(RaftTransportService.method.installSnapshot),
      def.requestSerialize,
      def.responseDeserialize,
      new Metadata(),
      {},
      (err) => resolve(err ? fromServiceError(err) : undefined),
    );
    for (const kind of requests) call.write({ $typeName: "ledger.node.v1.InstallSnapshotRequest", kind });
    call.end();
  });
}

function header(from = "n1"): InstallSnapshotRequest["kind"] {
  return {
    case: "header",
    value: {
      $typeName: "ledger.node.v1.SnapshotHeader",
      fromNodeId: from,
      configVersion,
      shardId: "s05",
      message: messageToProto(snapMessage),
    },
  };
}

function chunk(list: SnapshotPairBytes[]): InstallSnapshotRequest["kind"] {
  return {
    case: "chunk",
    value: {
      $typeName: "ledger.node.v1.SnapshotChunk",
      pairs: list.map((p) => ({ $typeName: "ledger.node.v1.SnapshotPair", ...p })),
    },
  };
}

function trailer(list: SnapshotPairBytes[], count = list.length): InstallSnapshotRequest["kind"] {
  const digest = new SnapshotDigest();
  for (const p of list) digest.add(p);
  return {
    case: "trailer",
    value: { $typeName: "ledger.node.v1.SnapshotTrailer", pairCount: BigInt(count), sha256: digest.finish() },
  };
}

describe("snapshot transfer", () => {
  it("delivers many pairs intact and in order in bounded chunks, one write at a time, and commits once", async () => {
    const sink = new RecordingSink();
    const server = await serverWith(sink);
    const n = 5_000; // ~1 MB: several chunks
    await send(server.address, pairs(n));
    // Compared pair by pair (a deep toEqual of 5000 byte arrays takes seconds).
    expect(sink.pairs).toHaveLength(n);
    const wrong = sink.pairs.findIndex((p, i) => !samePair(p, pairAt(i)));
    expect(wrong).toBe(-1);
    expect(sink.commits).toBe(1);
    expect(sink.aborts).toEqual([]);
    expect(sink.writes).toBe(Math.ceil((n * 212) / snapshotChunkBytesMax));
    expect(sink.maxPending).toBe(1);
    // The header's message reaches beginSnapshot with metadata only.
    expect(sink.begun).toEqual({
      from: "n1",
      shardId: "s05",
      message: { ...snapMessage, snapshot: { ...snapMessage.snapshot!, data: new Uint8Array(0) } },
    });
  });

  it("an empty snapshot (no pairs) commits too", async () => {
    const sink = new RecordingSink();
    const server = await serverWith(sink);
    await send(server.address, pairs(0));
    expect([sink.writes, sink.commits, sink.aborts.length]).toEqual([0, 1, 0]);
  });

  it("a pair corrupted after hashing fails the trailer check: the sink aborts and the sender rejects", async () => {
    const sink = new RecordingSink();
    const server = await serverWith(sink);
    async function* corrupting() {
      const first = pairAt(0);
      yield first;
      first.value[0] = 0xee; // after the sender hashed it, before the chunk is encoded
      for (let i = 1; i < 10; i++) yield pairAt(i);
    }
    const e = await rejectionOf(send(server.address, corrupting()));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(/trailer\.sha256 does not match/);
    expect(await sink.aborted).toMatch(/sha256/);
    expect(sink.commits).toBe(0);
  });

  it("a wrong pair count in the trailer aborts", async () => {
    const sink = new RecordingSink();
    const server = await serverWith(sink);
    const list = [pairAt(1), pairAt(2)];
    const e = await rawInstall(server.address, [header(), chunk(list), trailer(list, 3)]);
    expect(e?.message).toMatch(/trailer\.pair_count is 3, but 2 pairs arrived/);
    expect(await sink.aborted).toMatch(/pair_count/);
    expect(sink.commits).toBe(0);
  });

  it("the sender cancelling mid-way aborts the sink and rejects with CANCELLED", async () => {
    const controller = new AbortController();
    const sink = new RecordingSink(() => controller.abort());
    const server = await serverWith(sink);
    async function* endless() {
      for (let i = 0; ; i++) yield pairAt(i);
    }
    const e = await rejectionOf(send(server.address, endless(), controller.signal));
    expect(e.code).toBe("CANCELLED");
    expect(await sink.aborted).toMatch(/cancelled/);
    expect(sink.commits).toBe(0);
  });

  it("a stream that ends before its trailer aborts", async () => {
    const sink = new RecordingSink();
    const server = await serverWith(sink);
    const e = await rawInstall(server.address, [header(), chunk([pairAt(1)])]);
    expect(e?.code).toBe("INVALID_ARGUMENT");
    expect(await sink.aborted).toMatch(/ended before its trailer/);
  });

  it("a chunk before the header is refused without opening a sink", async () => {
    const sink = new RecordingSink();
    const server = await serverWith(sink);
    const e = await rawInstall(server.address, [chunk([pairAt(1)]), header()]);
    expect(e?.message).toMatch(/must start with a header/);
    expect(sink.begun).toBeUndefined();
  });

  it("a header from an unknown node is refused", async () => {
    const sink = new RecordingSink();
    const server = await serverWith(sink);
    const e = await rawInstall(server.address, [header("n9"), trailer([])]);
    expect(e?.message).toMatch(/from_node_id "n9" is not a known node/);
    expect(sink.begun).toBeUndefined();
  });

  it("a key above snapshotKeyBytesMax is refused by the receiver (abort) and by the sender before sending", async () => {
    const sink = new RecordingSink();
    const server = await serverWith(sink);
    const long = { key: new Uint8Array(snapshotKeyBytesMax + 1), value: new Uint8Array(1) };
    const e = await rawInstall(server.address, [header(), chunk([long]), trailer([long])]);
    expect(e?.message).toMatch(/key of 65 bytes is outside 1\.\.64/);
    expect(await sink.aborted).toMatch(/key of 65 bytes/);

    async function* one() {
      yield long;
    }
    const sinkB = new RecordingSink();
    const serverB = await serverWith(sinkB);
    const sent = await rejectionOf(send(serverB.address, one()));
    expect(sent.message).toMatch(/key of 65 bytes/);
    expect(sinkB.writes).toBe(0);
  });

  it("a refusal from beginSnapshot reaches the sender with its code", async () => {
    const server = closers.add(
      await startTransportServer({
        beginSnapshot: () => {
          throw new LedgerError("FAILED_PRECONDITION", "shard s05 is not hosted here");
        },
      }),
      (s) => s.stop(),
    );
    const e = await rejectionOf(send(server.address, pairs(3)));
    expect([e.code, e.message]).toEqual(["FAILED_PRECONDITION", "shard s05 is not hosted here"]);
  });
});
