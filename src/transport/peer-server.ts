// The receiving end of node-to-node Raft traffic: RaftTransportService on a node's gRPC server.
//
// Messages: each stream is one peer's batches. A batch from an unknown node or another
// config_version is dropped whole. Within an accepted batch every message is validated on its
// own and only a malformed one is dropped: messages are independent (Raft tolerates the loss
// of any of them), so one bad message must not cost a heartbeat to fifteen healthy shards. What
// is dropped is logged with the reason and the field, up to serverWarningsPerStreamMax lines per
// stream (a broken peer sends a batch every loop turn), then counted and summed up when the
// stream ends. Nothing a peer sends can throw out of here: a malformed peer never crashes us.
//
// InstallSnapshot: see snapshot-receiver.ts.

import type { CallWithAuth } from "./channel-security.js";
import { Metadata, type Server, type ServerDuplexStream, type UntypedHandleCall } from "@grpc/grpc-js";
import type { Logger } from "../base/logger.js";
import { serverWarningsPerStreamMax } from "./limits.js";
import { LedgerError, isLedgerError } from "../base/errors.js";
import { clip } from "../base/quote.js";
import { RaftTransportService, type MessagesRequest, type MessagesResponse } from "../gen/ledger/node/v1/node_pb.js";
import type { Message } from "../raft/index.js";
import { serviceDefinition } from "./grpc-service.js";
import { toServiceError } from "./status.js";
import { UndecodableRequest } from "./strict-decoding.js";
import { messageFromProto } from "./raft-codec.js";
import { receiveSnapshot, type SnapshotSink } from "./snapshot-receiver.js";

export type { SnapshotSink } from "./snapshot-receiver.js";

export interface IncomingMessage {
  shardId: string;
  message: Message;
}

export interface RaftTransportHandlers {
  /** This node's id. */
  nodeId: string;
  /** This node's cluster_config.json version; batches with another version are dropped. */
  configVersion: number;
  knownPeer(nodeId: string): boolean;
  /**
   * The node id the caller's verified TLS client certificate names (undefined when it names no
   * node). Absent when the cluster runs without TLS (--insecure): then, and only then, the
   * sender's own claim (from_node_id) is believed. With it, a batch or snapshot whose claimed
   * sender differs from the certificate is dropped and counted.
   */
  authenticatedNode?: (call: CallWithAuth) => string | undefined;
  /** Told of every batch or snapshot dropped because its claimed sender is not the
   * certificate's (metrics: ledger_peer_identity_mismatches_total). */
  onIdentityMismatch?: (certified: string) => void;
  /**
   * One call per accepted batch, with its valid messages in the order sent. Must not throw for
   * a message it cannot use (e.g. an unknown shard): drop it. A LedgerError it throws is logged
   * and the batch is lost; any other error is a bug and crashes the node.
   */
  onMessages(fromNodeId: string, messages: IncomingMessage[]): void;
  /** Starts staging a snapshot; may throw a LedgerError (unknown shard, busy, ...) to refuse it. */
  beginSnapshot(fromNodeId: string, shardId: string, message: Message): SnapshotSink;
}

/** Counters of one registered service (tests and metrics). */
export interface RaftTransportStats {
  streamsOpened: number;
  batchesAccepted: number;
  batchesDropped: number;
  messagesDropped: number;
  /** Batches whose from_node_id was not the node the TLS certificate names. */
  identityMismatches: number;
}

export { serverWarningsPerStreamMax } from "./limits.js";

export function addRaftTransportService(
  server: Server,
  handlers: RaftTransportHandlers,
  logger: Logger,
): RaftTransportStats {
  const stats: RaftTransportStats = {
    streamsOpened: 0,
    batchesAccepted: 0,
    batchesDropped: 0,
    messagesDropped: 0,
    identityMismatches: 0,
  };
  const messages = (call: ServerDuplexStream<MessagesRequest, MessagesResponse>) => {
    stats.streamsOpened++;
    // Response headers at once: the sender treats them as "this stream reached the peer".
    call.sendMetadata(new Metadata());
    const stream = new StreamWarnings(logger, call.getPeer());
    // The stream's sender, from its certificate: fixed for the stream's life (one connection).
    const certified = handlers.authenticatedNode === undefined ? undefined : (handlers.authenticatedNode(call) ?? "");
    call.on("data", (req: MessagesRequest) => {
      // Only on a server built without strictServerOptions, whose interceptor answers these;
      // grpc-js sends an 'error' emitted on a server stream as its status.
      if ((req as unknown) instanceof UndecodableRequest)
        return void call.emit("error", toServiceError((req as unknown as UndecodableRequest).error));
      handleBatch(req, certified, handlers, stats, stream);
    });
    call.on("end", () => {
      stream.summary();
      call.end();
    });
    call.on("error", (e: Error) =>
      logger.debug({ peer: call.getPeer(), err: e.message }, "raft message stream failed"),
    );
  };
  const installSnapshot = (
    call: Parameters<typeof receiveSnapshot>[0],
    callback: Parameters<typeof receiveSnapshot>[1],
  ) => receiveSnapshot(call, callback, handlers, logger);
  server.addService(serviceDefinition(RaftTransportService), {
    messages: messages as UntypedHandleCall,
    installSnapshot: installSnapshot as UntypedHandleCall,
  });
  return stats;
}

/** `certified`: the sender named by the stream's TLS certificate ("" when it names no node),
 * or undefined without TLS. */
function handleBatch(
  req: MessagesRequest,
  certified: string | undefined,
  h: RaftTransportHandlers,
  stats: RaftTransportStats,
  log: StreamWarnings,
): void {
  const from = req.fromNodeId;
  if (certified !== undefined && from !== certified) {
    stats.batchesDropped++;
    stats.identityMismatches++;
    h.onIdentityMismatch?.(certified);
    return log.warn(
      { from: clip(from), certified },
      "raft batch whose from_node_id is not the node its TLS certificate names dropped",
    );
  }
  if (!h.knownPeer(from) || from === h.nodeId) {
    stats.batchesDropped++;
    return log.warn({ from: clip(from) }, "raft batch from an unknown node dropped");
  }
  if (req.configVersion !== h.configVersion) {
    stats.batchesDropped++;
    return log.warn(
      { from, theirs: req.configVersion, ours: h.configVersion },
      "raft batch with another config version dropped",
    );
  }
  const accepted: IncomingMessage[] = [];
  for (let i = 0; i < req.messages.length; i++) {
    const sm = req.messages[i]!;
    try {
      if (sm.shardId === "") throw new LedgerError("INVALID_ARGUMENT", `messages[${i}].shard_id is empty`);
      if (sm.message === undefined) throw new LedgerError("INVALID_ARGUMENT", `messages[${i}].message is missing`);
      accepted.push({ shardId: sm.shardId, message: messageFromProto(sm.message, `messages[${i}].message`) });
    } catch (e) {
      if (!isLedgerError(e)) throw e;
      stats.messagesDropped++;
      log.warn({ from, shardId: clip(sm.shardId), err: e.message }, "malformed raft message dropped");
    }
  }
  stats.batchesAccepted++;
  if (accepted.length === 0) return;
  try {
    h.onMessages(from, accepted);
  } catch (e) {
    if (!isLedgerError(e)) throw e;
    log.warn({ from, err: e.message }, "raft batch refused by the node");
  }
}

/** Rate-limited warnings about one stream's dropped traffic. */
class StreamWarnings {
  private count = 0;

  constructor(
    private readonly logger: Logger,
    private readonly peer: string,
  ) {}

  warn(fields: Record<string, unknown>, msg: string): void {
    this.count++;
    if (this.count <= serverWarningsPerStreamMax) this.logger.warn({ peer: this.peer, ...fields }, msg);
    if (this.count === serverWarningsPerStreamMax) {
      this.logger.warn({ peer: this.peer }, "further drops on this raft stream are counted, not logged");
    }
  }

  summary(): void {
    if (this.count > serverWarningsPerStreamMax)
      this.logger.warn({ peer: this.peer, dropped: this.count }, "raft stream ended; drops on it");
  }
}
