// Receiving side of RaftTransportService/InstallSnapshot: a header (checked like a message
// batch, then handed to beginSnapshot), chunks written to the sink one at a time (the stream is
// paused while a write is pending, so a slow disk slows the sender instead of filling memory),
// and a trailer whose pair count and SHA-256 must match what arrived before the sink commits.
// Any mismatch, limit breach, stream error, cancel or deadline aborts the sink and answers with
// a LedgerError status; the sender's snapshot-stream.ts rejects with it.

import type { ServerReadableStream, sendUnaryData } from "@grpc/grpc-js";
import type { CallWithAuth } from "./channel-security.js";
import type { Logger } from "../base/logger.js";
import { LedgerError, isLedgerError } from "../base/errors.js";
import { quote } from "../base/quote.js";
import type {
  InstallSnapshotRequest,
  InstallSnapshotResponse,
  SnapshotHeader,
  SnapshotChunk,
  SnapshotTrailer,
} from "../gen/ledger/node/v1/node_pb.js";
import { MessageType, type Message } from "../raft/index.js";
import { messageFromProto } from "./raft-codec.js";
import { SnapshotDigest, checkSnapshotPair, equalBytes, type SnapshotPairBytes } from "./snapshot-format.js";
import { toServiceError } from "./status.js";
import { UndecodableRequest } from "./strict-decoding.js";

/**
 * Where a snapshot's pairs are staged. Calls come one at a time: write (any number), then
 * commit or abort, never both (abort may follow a failed commit). Pair bytes are views into the
 * received chunk: copy what must outlive the write call.
 */
export interface SnapshotSink {
  write(pairs: SnapshotPairBytes[]): Promise<void>;
  commit(): Promise<void>;
  abort(reason: string): Promise<void>;
}

export interface SnapshotHandlers {
  configVersion: number;
  knownPeer(nodeId: string): boolean;
  /** As in RaftTransportHandlers: the node the caller's certificate names; absent without TLS. */
  authenticatedNode?: (call: CallWithAuth) => string | undefined;
  onIdentityMismatch?: (certified: string) => void;
  beginSnapshot(fromNodeId: string, shardId: string, message: Message): SnapshotSink;
}

type Phase = "header" | "chunks" | "committing" | "done";

function invalid(why: string): LedgerError {
  return new LedgerError("INVALID_ARGUMENT", why);
}

export function receiveSnapshot(
  call: ServerReadableStream<InstallSnapshotRequest, InstallSnapshotResponse>,
  callback: sendUnaryData<InstallSnapshotResponse>,
  handlers: SnapshotHandlers,
  logger: Logger,
): void {
  let phase: Phase = "header";
  let sink: SnapshotSink | undefined;
  let from = "";
  let shardId = "";
  const digest = new SnapshotDigest();
  let queue: Promise<void> = Promise.resolve();
  const certified = handlers.authenticatedNode === undefined ? undefined : (handlers.authenticatedNode(call) ?? "");

  const finish = (error: LedgerError | undefined) => {
    if (phase === "done") return;
    const wasCommitting = phase === "committing";
    phase = "done";
    if (error === undefined) {
      logger.info({ from, shardId, pairs: digest.pairCount }, "snapshot received");
      return callback(null, { $typeName: "ledger.node.v1.InstallSnapshotResponse" });
    }
    logger.warn({ from, shardId, err: error.message }, "snapshot receive failed");
    callback(toServiceError(error) as Parameters<typeof callback>[0]);
    // After any write or commit still pending: the sink sees one call at a time.
    queue = queue
      .then(() => sink?.abort(error.message))
      .catch((e: unknown) =>
        logger.error({ from, shardId, err: String(e), wasCommitting }, "snapshot sink abort failed"),
      );
  };

  const step = async (req: InstallSnapshotRequest) => {
    if (phase === "done") return; // failed (cancel, error) while this request waited its turn
    // Only on a server built without strictServerOptions, whose interceptor answers these.
    if ((req as unknown) instanceof UndecodableRequest) throw (req as unknown as UndecodableRequest).error;
    const kind = req.kind;
    if (phase === "header") {
      if (kind.case !== "header") throw invalid("snapshot stream must start with a header");
      sink = openSink(kind.value, handlers, certified);
      from = kind.value.fromNodeId;
      shardId = kind.value.shardId;
      phase = "chunks";
      return;
    }
    if (phase !== "chunks") return; // done or committing: nothing more is read
    if (kind.case === "chunk") return writeChunk(kind.value, digest, sink!);
    if (kind.case === "trailer") {
      checkTrailer(kind.value, digest);
      phase = "committing";
      await sink!.commit();
      return finish(undefined);
    }
    throw invalid(kind.case === "header" ? "snapshot stream has a second header" : "snapshot request has no kind");
  };

  const fail = (e: unknown) => {
    if (isLedgerError(e)) return finish(e);
    logger.error({ from, shardId, err: e instanceof Error ? e.stack : String(e) }, "snapshot receive: internal error");
    finish(new LedgerError("INTERNAL", "internal error receiving the snapshot; see the receiver's log"));
  };

  call.on("data", (req: InstallSnapshotRequest) => {
    if (phase === "done") return;
    call.pause();
    queue = queue
      .then(() => step(req))
      .then(() => {
        if (phase !== "done") call.resume();
      }, fail);
  });
  call.on("end", () => {
    queue = queue.then(() => {
      if (phase === "chunks" || phase === "header") finish(invalid("snapshot stream ended before its trailer"));
    });
  });
  // A cancel during a commit in progress does not abort it: the commit decides the outcome.
  call.on("cancelled", () => {
    if (phase !== "committing")
      finish(new LedgerError("CANCELLED", "snapshot stream cancelled by the sender or its deadline"));
  });
  call.on("error", (e: Error) => {
    if (phase !== "committing") finish(new LedgerError("UNAVAILABLE", `snapshot stream failed: ${e.message}`));
  });
}

function openSink(h: SnapshotHeader, handlers: SnapshotHandlers, certified: string | undefined): SnapshotSink {
  if (certified !== undefined && h.fromNodeId !== certified) {
    handlers.onIdentityMismatch?.(certified);
    throw new LedgerError(
      "PERMISSION_DENIED",
      `header.from_node_id is not ${certified}, the node your TLS certificate names`,
    );
  }
  if (!handlers.knownPeer(h.fromNodeId))
    throw invalid(`header.from_node_id ${quote(h.fromNodeId)} is not a known node`);
  if (h.configVersion !== handlers.configVersion) {
    throw new LedgerError(
      "FAILED_PRECONDITION",
      `header.config_version is ${h.configVersion}, this node has ${handlers.configVersion}`,
    );
  }
  if (h.shardId === "") throw invalid("header.shard_id is empty");
  if (h.message === undefined) throw invalid("header.message is missing");
  const message = messageFromProto(h.message, "header.message");
  if (message.type !== MessageType.Snapshot) throw invalid(`header.message.type is ${message.type}, expected SNAPSHOT`);
  return handlers.beginSnapshot(h.fromNodeId, h.shardId, message);
}

async function writeChunk(chunk: SnapshotChunk, digest: SnapshotDigest, sink: SnapshotSink): Promise<void> {
  for (const pair of chunk.pairs) {
    const bad = checkSnapshotPair(pair, digest.pairCount);
    if (bad) throw bad;
    digest.add(pair);
  }
  if (chunk.pairs.length > 0) await sink.write(chunk.pairs);
}

function checkTrailer(t: SnapshotTrailer, digest: SnapshotDigest): void {
  if (t.pairCount !== BigInt(digest.pairCount)) {
    throw invalid(`trailer.pair_count is ${t.pairCount}, but ${digest.pairCount} pairs arrived`);
  }
  if (!equalBytes(t.sha256, digest.finish())) throw invalid("trailer.sha256 does not match the pairs that arrived");
}
