// How a node reaches its peers, behind one narrow seam: Raft message batches on a link per peer
// node, and snapshots on streams of their own. Production runs gRPC (one long-lived Messages
// stream per peer, PeerSender; InstallSnapshot streams, snapshot-stream.ts) over TLS that checks
// each peer's identity; the whole-cluster simulator passes a simulated network.

import type { Logger } from "../base/logger.js";
import type { ClusterConfig, NodeId } from "../cluster/config.js";
import type { Message, ReplicaId } from "../raft/index.js";
import type { TransportSecurity } from "../security/transport-security.js";
import { PeerSender, type OutgoingMessage, type PeerStreamState } from "./peer-sender.js";
import type { SnapshotPairBytes } from "./snapshot-format.js";
import { sendSnapshot } from "./snapshot-stream.js";

export type { OutgoingMessage, PeerStreamState } from "./peer-sender.js";

/** The sending end of one peer node's batches: in order, or dropped (never queued without bound). */
export interface PeerLink {
  /** Sends one loop turn's messages for this peer, or drops them (reported to onUnreachable). */
  send(messages: readonly OutgoingMessage[]): void;
  readonly state: PeerStreamState;
  /** Batches dropped because the link was down or full. */
  readonly batchesDropped: number;
  /** Streams (connections) opened so far. */
  readonly streamsOpened: number;
  close(): void;
}

export interface SnapshotToSend {
  shardId: string;
  /** The core's MsgSnap; its snapshot carries metadata only (the pairs are the data). */
  message: Message;
  /** The ledger-state records in key order. */
  pairs: AsyncIterable<SnapshotPairBytes>;
  deadlineMs: number;
  signal: AbortSignal;
}

export interface PeerTransport {
  /** The link to peer `nodeId`; `onUnreachable` hears of each (shard, replica) of a dropped batch. */
  link(nodeId: NodeId, onUnreachable: (shardId: string, to: ReplicaId) => void): PeerLink;
  /** Streams a snapshot to `nodeId`; resolves once the receiver verified and committed it. */
  sendSnapshot(nodeId: NodeId, snapshot: SnapshotToSend): Promise<void>;
}

/** gRPC to the addresses of `config`, over TLS checking each peer's identity (`security`). */
export function grpcPeerTransport(o: {
  nodeId: NodeId;
  config: ClusterConfig;
  security: TransportSecurity;
  logger: Logger;
}): PeerTransport {
  const addressOf = (nodeId: NodeId): string => {
    const node = o.config.nodes.find((n) => n.id === nodeId);
    if (node === undefined) throw new Error(`no address for node ${nodeId}: config not validated`);
    return node.address;
  };
  return {
    link: (nodeId, onUnreachable) =>
      new PeerSender({
        selfNodeId: o.nodeId,
        configVersion: o.config.version,
        peerNodeId: nodeId,
        address: addressOf(nodeId),
        channel: o.security.channelTo({ role: "node", name: nodeId }),
        logger: o.logger,
        onUnreachable,
      }),
    sendSnapshot: (nodeId, s) =>
      sendSnapshot({
        address: addressOf(nodeId),
        channel: o.security.channelTo({ role: "node", name: nodeId }),
        selfNodeId: o.nodeId,
        configVersion: o.config.version,
        shardId: s.shardId,
        message: s.message,
        pairs: s.pairs,
        signal: s.signal,
        deadlineMs: s.deadlineMs,
      }),
  };
}
