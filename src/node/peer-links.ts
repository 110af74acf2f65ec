// Outgoing Raft traffic of the node: the messages of one loop turn are grouped by destination
// node and sent as one batch per peer on that peer's long-lived stream. Snapshot messages go to
// the snapshot transfers instead (their data travels on a stream of its own).

import type { Logger } from "../base/logger.js";
import type { ClusterConfig, NodeId, ShardId } from "../cluster/config.js";
import { MessageType, type Message, type ReplicaId } from "../raft/index.js";
import type { PeerLink, PeerStreamState, PeerTransport } from "../transport/peer-transport.js";
import type { Replica } from "./replica.js";

/** What the links need of the node around them (the node host provides it). */
export interface PeerLinksHost {
  readonly nodeId: NodeId;
  readonly config: ClusterConfig;
  readonly nodeOfReplica: ReadonlyMap<ReplicaId, NodeId>;
  readonly transport: PeerTransport;
  readonly replicas: ReadonlyMap<ShardId, Replica>;
  /** Where Snapshot messages go (their data travels on a stream of its own). */
  readonly snapshots: { send(r: Replica, m: Message): void };
  /** Runs `fn` inside the node's next loop turn. */
  enqueue(fn: () => void): void;
  /** A message to `to` was dropped: the stream to its node is down or full. */
  peerUnreachable(r: Replica, to: ReplicaId): void;
}

export interface PeerLinkStats {
  nodeId: NodeId;
  state: PeerStreamState;
  batchesDropped: number;
  streamsOpened: number;
}

export class PeerLinks {
  private readonly senders = new Map<NodeId, PeerLink>();
  private pending = new Map<NodeId, { shardId: string; message: Message }[]>();

  constructor(
    private readonly host: PeerLinksHost,
    private readonly logger: Logger,
  ) {}

  add(r: Replica, messages: readonly Message[]): void {
    for (const message of messages) {
      if (message.type === MessageType.Snapshot) {
        this.host.snapshots.send(r, message);
        continue;
      }
      const nodeId = this.host.nodeOfReplica.get(message.to);
      if (nodeId === undefined || nodeId === this.host.nodeId) {
        this.logger.error({ shard: r.shard.id, to: message.to }, "Raft addressed a replica outside the shard; dropped");
        continue;
      }
      let list = this.pending.get(nodeId);
      if (list === undefined) this.pending.set(nodeId, (list = []));
      list.push({ shardId: r.shard.id, message });
    }
  }

  /**
   * Opens the stream to every peer node now: a stream opened lazily by the first send would drop
   * that send (and a fresh node's first election round with it).
   */
  connectAll(): void {
    for (const node of this.host.config.nodes) if (node.id !== this.host.nodeId) this.sender(node.id);
  }

  /** Sends everything added since the last flush: one stream write per peer node. */
  flush(): void {
    for (const [nodeId, messages] of this.pending) this.sender(nodeId).send(messages);
    this.pending = new Map();
  }

  /** Each peer's stream state and counts, read without side effects (metrics). PeerSender queues
   * nothing of its own (a batch that cannot go out is dropped), so drops are what backs up. */
  peerStats(): PeerLinkStats[] {
    return [...this.senders].map(([nodeId, s]) => ({
      nodeId,
      state: s.state,
      batchesDropped: s.batchesDropped,
      streamsOpened: s.streamsOpened,
    }));
  }

  private sender(nodeId: NodeId): PeerLink {
    let s = this.senders.get(nodeId);
    if (s !== undefined) return s;
    s = this.host.transport.link(nodeId, (shardId: string, to: ReplicaId) => {
      const replica = this.host.replicas.get(shardId);
      if (replica !== undefined) this.host.enqueue(() => this.host.peerUnreachable(replica, to));
    });
    this.senders.set(nodeId, s);
    return s;
  }

  close(): void {
    for (const s of this.senders.values()) s.close();
    this.senders.clear();
  }
}
