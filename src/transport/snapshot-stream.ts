// Sending side of a chunked snapshot over RaftTransportService/InstallSnapshot (client
// streaming): a header (the MsgSnap with metadata only), chunks of at most about
// snapshotChunkBytesMax pair bytes, then a trailer with the pair count and the SHA-256 of
// snapshot-format.ts. Memory stays bounded: at most one chunk is built at a time, and the next
// pair is not read while the stream's buffer is full (we wait for 'drain'). The receiving side
// is in peer-server.ts.

import { Client, Metadata, type ClientWritableStream } from "@grpc/grpc-js";
import type { ChannelSecurity } from "./channel-security.js";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { assert } from "../base/assert.js";
import { LedgerError, isLedgerError } from "../base/errors.js";
import {
  InstallSnapshotRequestSchema,
  InstallSnapshotResponseSchema,
  RaftTransportService,
  type InstallSnapshotRequest,
  type SnapshotPair,
} from "../gen/ledger/node/v1/node_pb.js";
import { MessageType, type Message } from "../raft/index.js";
import { channelOptions, methodPath } from "./grpc-service.js";
import { messageToProto } from "./raft-codec.js";
import { SnapshotDigest, checkSnapshotPair, type SnapshotPairBytes } from "./snapshot-format.js";
import { fromServiceError } from "./status.js";
import { snapshotChunkBytesMax } from "./limits.js";

export type { SnapshotPairBytes } from "./snapshot-format.js";

export interface SendSnapshotOptions {
  address: string;
  selfNodeId: string;
  configVersion: number;
  shardId: string;
  /** The core's MsgSnap; its snapshot data is not sent (the pairs are the data). */
  message: Message;
  /** The snapshot's ledger-state records in key order. */
  pairs: AsyncIterable<SnapshotPairBytes>;
  signal?: AbortSignal;
  /** Absolute deadline in Date.now() milliseconds for the whole transfer. */
  deadlineMs: number;
  /** A channel to the peer to reuse; when absent one is opened (with `channel`) and closed for this transfer. */
  client?: Client;
  /** How to open that channel (TLS to the peer node); required without `client`. */
  channel?: ChannelSecurity;
}

const installSnapshotPath = methodPath(RaftTransportService.method.installSnapshot);

// Zero-copy wrap of the encoded bytes (Buffer.from(Uint8Array) would copy them).
function serializeRequest(m: InstallSnapshotRequest): Buffer {
  const bytes = toBinary(InstallSnapshotRequestSchema, m);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function deserializeResponse(b: Buffer) {
  return fromBinary(InstallSnapshotResponseSchema, b);
}

/** Resolves once the receiver has verified and committed the snapshot; rejects with LedgerError. */
export async function sendSnapshot(o: SendSnapshotOptions): Promise<void> {
  assert(
    o.message.type === MessageType.Snapshot && o.message.snapshot !== undefined,
    "sendSnapshot needs a Snapshot message with a snapshot",
  );
  assert(
    o.client !== undefined || o.channel !== undefined,
    "sendSnapshot needs a client or the channel security to open one",
  );
  const client =
    o.client ?? new Client(o.address, o.channel!.credentials, { ...channelOptions, ...o.channel!.options });
  let stopped = false;
  let call!: ClientWritableStream<InstallSnapshotRequest>;
  const outcome = new Promise<void>((resolve, reject) => {
    call = client.makeClientStreamRequest(
      installSnapshotPath,
      serializeRequest,
      deserializeResponse,
      new Metadata(),
      { deadline: new Date(o.deadlineMs) },
      (err) => {
        stopped = true;
        if (err) reject(fromServiceError(err));
        else resolve();
      },
    );
  });
  outcome.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
  const onAbort = () => {
    stopped = true;
    call.cancel();
  };
  o.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    if (o.signal?.aborted) onAbort();
    else await streamSnapshot(o, call, () => stopped, outcome);
    await outcome;
    if (o.signal?.aborted) throw cancelled();
  } catch (e) {
    call.cancel();
    if (o.signal?.aborted) throw cancelled();
    if (isLedgerError(e)) throw e;
    throw new LedgerError("INTERNAL", `snapshot for shard ${o.shardId} failed: ${(e as Error).message ?? String(e)}`);
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
    if (o.client === undefined) client.close();
  }
}

function cancelled(): LedgerError {
  return new LedgerError("CANCELLED", "snapshot transfer cancelled by the sender");
}

async function streamSnapshot(
  o: SendSnapshotOptions,
  call: ClientWritableStream<InstallSnapshotRequest>,
  isStopped: () => boolean,
  outcome: Promise<void>,
): Promise<void> {
  const snapshot = o.message.snapshot!;
  const header: Message = { ...o.message, snapshot: { metadata: snapshot.metadata, data: new Uint8Array(0) } };
  const write = async (kind: InstallSnapshotRequest["kind"]) => {
    if (call.write({ $typeName: "ledger.node.v1.InstallSnapshotRequest", kind })) return;
    await drainOrSettled(call, outcome);
  };
  await write({
    case: "header",
    value: {
      $typeName: "ledger.node.v1.SnapshotHeader",
      fromNodeId: o.selfNodeId,
      configVersion: o.configVersion,
      shardId: o.shardId,
      message: messageToProto(header),
    },
  });
  const digest = new SnapshotDigest();
  let chunk: SnapshotPair[] = [];
  let chunkBytes = 0;
  const flush = async () => {
    const pairs = chunk;
    chunk = [];
    chunkBytes = 0;
    await write({ case: "chunk", value: { $typeName: "ledger.node.v1.SnapshotChunk", pairs } });
  };
  for await (const pair of o.pairs) {
    if (isStopped()) return; // the call has ended (error or cancel); `outcome` says why
    const bad = checkSnapshotPair(pair, digest.pairCount);
    if (bad) throw bad;
    digest.add(pair);
    chunk.push({ $typeName: "ledger.node.v1.SnapshotPair", key: pair.key, value: pair.value });
    chunkBytes += pair.key.length + pair.value.length;
    if (chunkBytes >= snapshotChunkBytesMax) await flush();
  }
  if (isStopped()) return;
  if (chunk.length > 0) await flush();
  await write({
    case: "trailer",
    value: {
      $typeName: "ledger.node.v1.SnapshotTrailer",
      pairCount: BigInt(digest.pairCount),
      sha256: digest.finish(),
    },
  });
  call.end();
}

/** Waits until the stream can take more, or the call is over (then writing is pointless). */
function drainOrSettled(call: ClientWritableStream<InstallSnapshotRequest>, outcome: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      call.off("drain", done);
      resolve();
    };
    call.once("drain", done);
    outcome.then(done, done);
  });
}
