// The simulated network between the gateway and the nodes, and between nodes: Raft message
// batches, snapshot streams and NodeService calls, each through the same wire encoding as in
// production (so nothing is shared between sender and receiver), with seeded latency, loss,
// duplication and reordering, and partitions that may be one-way.
//
// What a caller hears mirrors the production transports (src/transport/call-stream-client.ts):
// a call to a node that is down fails at once with UNAVAILABLE and applied = "no"; a call lost
// in a partition hangs until its deadline or its caller gives up; a call whose node dies while
// holding it fails UNAVAILABLE without that mark (it may have been applied).

import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { LedgerError, isLedgerError, type ErrorCode } from "../../src/base/errors.js";
import type { NodeId } from "../../src/cluster/config.js";
import {
  ProposeRequestSchema,
  ProposeResponseSchema,
  ReadRequestSchema,
  ReadResponseSchema,
  type ProposeRequest,
  type ProposeResponse,
  type ReadRequest,
  type ReadResponse,
} from "../../src/gen/ledger/node/v1/node_pb.js";
import { MessageSchema } from "../../src/gen/raft/v1/raft_pb.js";
import type { OwnedNodeClient } from "../../src/gateway/shard-caller.js";
import type { HandlerContext } from "../../src/transport/grpc-service.js";
import type { OutgoingMessage, PeerLink, PeerTransport, SnapshotToSend } from "../../src/transport/peer-transport.js";
import { messageFromProto, messageToProto } from "../../src/transport/raft-codec.js";
import type { SnapshotPairBytes } from "../../src/transport/snapshot-format.js";
import type { NodeHost } from "../../src/node/node-host.js";
import type { NodeService } from "../../src/gen/ledger/node/v1/node_pb.js";
import type { UnaryImpl } from "../../src/transport/grpc-service.js";
import type { Owner, SimWorld } from "./world.js";

/** What the network needs of a node (NetworkNode): its live incarnation, if any. */
export interface NetworkNode {
  readonly host: NodeHost | undefined;
  readonly service: UnaryImpl<typeof NodeService> | undefined;
  readonly owner: Owner;
  /** Called when the incarnation dies. */
  readonly onCrash: Set<() => void>;
}

export interface NetworkProfile {
  /** One-way latency: base plus a uniform jitter (jitter reorders messages). */
  latencyMs: number;
  jitterMs: number;
  /** Chance a Raft batch is lost, and that it is delivered twice. */
  loss: number;
  duplication: number;
}

/** Node answers that a healthy cluster never gives: a read its leader never confirmed, a call
 * the node could not finish before its deadline. */
const unhealthyAnswers = /could not be confirmed with the leader in time|did not apply up to the read point/;

export interface NetworkStats {
  batchesSent: number;
  batchesLost: number;
  batchesDuplicated: number;
  batchesBlocked: number;
  batchesHeld: number;
  snapshotsSent: number;
  snapshotsFailed: number;
  snapshotsMisrouted: number;
  callsSent: number;
  callsLost: number;
}

/** Pairs per chunk of a simulated snapshot stream. */
const snapshotChunkPairs = 64;
/** Node calls without a deadline get this one (nodeCallDeadlineMsDefault's role). */
const callDeadlineDefaultMs = 5_000;

type Method = "propose" | "read";

/** A link that holds some batches far longer than the rest (a stalled path, retransmissions):
 * a held batch reaches whichever incarnation of the receiver is up when it lands, so a node
 * that restarted meanwhile gets answers to what its previous incarnation asked. */
export interface LinkLag {
  /** Chance each batch is held. */
  chance: number;
  /** A held batch lands after up to this much extra time. */
  holdMsMax: number;
}

export class SimNetwork {
  private readonly blocked = new Set<string>();
  private readonly lags = new Map<string, LinkLag>();
  /** Set while the cluster is healthy (healed, converged, no faults): node answers that only
   * faults can explain are recorded in `unhealthy`. */
  healthy = false;
  readonly unhealthy: string[] = [];
  /** A sender's snapshot message also goes out on the message stream (a misrouting peer):
   * the receiver must drop it. */
  misrouteSnapshots = false;
  readonly stats: NetworkStats = {
    batchesSent: 0,
    batchesLost: 0,
    batchesDuplicated: 0,
    batchesBlocked: 0,
    batchesHeld: 0,
    snapshotsSent: 0,
    snapshotsFailed: 0,
    snapshotsMisrouted: 0,
    callsSent: 0,
    callsLost: 0,
  };

  constructor(
    private readonly world: SimWorld,
    private readonly nodes: ReadonlyMap<NodeId, NetworkNode>,
    private profile: NetworkProfile,
    private readonly onViolation: (what: string) => void,
  ) {}

  setProfile(profile: NetworkProfile): void {
    this.profile = profile;
  }

  /** Messages from `from` to `to` are lost until unblock (one way). */
  block(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Batches from `from` to `to` are sometimes held (one way) until healAll. */
  lag(from: string, to: string, lag: LinkLag): void {
    this.lags.set(`${from}>${to}`, lag);
  }

  healAll(): void {
    this.blocked.clear();
    this.lags.clear();
  }

  isOpen(from: string, to: string): boolean {
    return !this.blocked.has(`${from}>${to}`);
  }

  private latency(): number {
    return this.profile.latencyMs + this.world.random.float() * this.profile.jitterMs;
  }

  /** The PeerTransport of node `from`'s incarnation `owner`. */
  transportFor(from: NodeId, owner: Owner): PeerTransport {
    return {
      link: (to, onUnreachable) => this.link(from, owner, to, onUnreachable),
      sendSnapshot: (to, snapshot) => this.sendSnapshot(from, owner, to, snapshot),
    };
  }

  private link(from: NodeId, owner: Owner, to: NodeId, onUnreachable: (shardId: string, to: number) => void): PeerLink {
    const stats = { batchesDropped: 0, streamsOpened: 1 };
    let closed = false;
    return {
      send: (messages: readonly OutgoingMessage[]) => {
        if (closed || messages.length === 0) return;
        this.stats.batchesSent++;
        const receiver = this.nodes.get(to);
        if (!this.isOpen(from, to) || receiver?.host === undefined) {
          // A broken stream: the sender learns the batch was dropped, as PeerSender reports it.
          stats.batchesDropped++;
          this.stats.batchesBlocked++;
          const seen = new Set<string>();
          for (const { shardId, message } of messages) {
            const key = `${shardId}/${message.to}`;
            if (seen.has(key)) continue;
            seen.add(key);
            this.world.at(0, () => onUnreachable(shardId, message.to), owner);
          }
          return;
        }
        if (this.world.random.float() < this.profile.loss) {
          this.stats.batchesLost++;
          return;
        }
        const wire = messages.map(({ shardId, message }) => ({
          shardId,
          bytes: toBinary(MessageSchema, messageToProto(message)),
        }));
        const copies = this.world.random.float() < this.profile.duplication ? 2 : 1;
        if (copies === 2) this.stats.batchesDuplicated++;
        const lag = this.lags.get(`${from}>${to}`);
        for (let i = 0; i < copies; i++) {
          const held = lag !== undefined && this.world.random.float() < lag.chance;
          if (held) this.stats.batchesHeld++;
          const delay = this.latency() + (held ? this.world.random.float() * lag.holdMsMax : 0);
          this.world.at(delay, () => {
            const target = this.nodes.get(to)?.host;
            // Lost if the path broke meanwhile or the receiver is down (its socket is gone).
            if (target === undefined || !this.isOpen(from, to)) return;
            const decoded = wire.map(({ shardId, bytes }) => ({
              shardId,
              message: messageFromProto(fromBinary(MessageSchema, bytes), "message"),
            }));
            target.deliver(from, decoded);
          });
        }
      },
      get state() {
        return closed ? "closed" : "up";
      },
      get batchesDropped() {
        return stats.batchesDropped;
      },
      get streamsOpened() {
        return stats.streamsOpened;
      },
      close: () => {
        closed = true;
      },
    };
  }

  private async sendSnapshot(from: NodeId, owner: Owner, to: NodeId, s: SnapshotToSend): Promise<void> {
    this.stats.snapshotsSent++;
    const hop = async (): Promise<NetworkNode> => {
      await this.world.sleep(this.latency(), owner);
      const node = this.nodes.get(to);
      if (s.signal.aborted) throw new LedgerError("CANCELLED", "snapshot send cancelled");
      if (this.world.now >= s.deadlineMs) throw new LedgerError("DEADLINE_EXCEEDED", "snapshot send timed out");
      if (node?.host === undefined || !this.isOpen(from, to) || !this.isOpen(to, from))
        throw new LedgerError("UNAVAILABLE", `snapshot stream to ${to} broke`);
      return node;
    };
    try {
      const receiver = await hop();
      const incarnation = receiver.owner;
      const host = receiver.host!;
      const header = messageFromProto(
        fromBinary(MessageSchema, toBinary(MessageSchema, messageToProto(s.message))),
        "m",
      );
      if (this.misrouteSnapshots && this.world.random.intBelow(2) === 0) {
        this.stats.snapshotsMisrouted++;
        host.deliver(from, [{ shardId: s.shardId, message: header }]);
      }
      const sink = host.snapshots.begin(from, s.shardId, header);
      // The receiver's calls come one at a time, as the gRPC receiver makes them.
      let last: Promise<unknown> = Promise.resolve();
      let ended = false;
      const onReceiver = <T>(fn: () => Promise<T>): Promise<T> => {
        const next = last.then(fn);
        last = next.catch(() => undefined);
        return next;
      };
      const abort = (why: string): Promise<void> => {
        if (ended || receiver.owner !== incarnation || !incarnation.alive) return Promise.resolve();
        ended = true;
        return onReceiver(() => sink.abort(why)).catch(() => undefined);
      };
      // A sender that dies mid-stream resets the connection: the receiver hears of it at once.
      const sender = this.nodes.get(from);
      const onSenderCrash = (): void => {
        this.world.at(this.latency(), () => void abort("the sender's stream broke"));
      };
      sender?.onCrash.add(onSenderCrash);
      // A receiver that dies mid-stream resets it too: whatever the sender waits on fails.
      let receiverDied!: (e: LedgerError) => void;
      const broken = new Promise<never>((_, reject) => {
        receiverDied = reject;
      });
      broken.catch(() => undefined);
      const onReceiverCrash = (): void => {
        this.world.at(this.latency(), () =>
          receiverDied(new LedgerError("UNAVAILABLE", `snapshot stream to ${to} broke`)),
        );
      };
      receiver.onCrash.add(onReceiverCrash);
      const onReceiverOrBroken = <T>(fn: () => Promise<T>): Promise<T> => Promise.race([onReceiver(fn), broken]);
      const checkReceiver = async (): Promise<void> => {
        await hop();
        if (receiver.owner !== incarnation) throw new LedgerError("UNAVAILABLE", `snapshot stream to ${to} broke`);
      };
      try {
        let chunk: SnapshotPairBytes[] = [];
        for await (const pair of s.pairs) {
          chunk.push({ key: pair.key.slice(), value: pair.value.slice() });
          if (chunk.length >= snapshotChunkPairs) {
            await checkReceiver();
            const pairs = chunk;
            await onReceiverOrBroken(() => sink.write(pairs));
            chunk = [];
          }
        }
        await checkReceiver();
        const pairs = chunk;
        if (pairs.length > 0) await onReceiverOrBroken(() => sink.write(pairs));
        ended = true;
        await onReceiverOrBroken(() => sink.commit());
      } catch (e) {
        // A receiver that died meanwhile cleans up on restart; a live one is told.
        await abort(String(e));
        throw e;
      } finally {
        sender?.onCrash.delete(onSenderCrash);
        receiver.onCrash.delete(onReceiverCrash);
      }
    } catch (e) {
      this.stats.snapshotsFailed++;
      throw e;
    }
  }

  /** A NodeService client from `from` (the gateway or a node) to node `to`. */
  nodeClient(from: string, to: NodeId): OwnedNodeClient {
    return {
      propose: (request: ProposeRequest, options?: { deadlineMs?: number; signal?: AbortSignal }) =>
        this.call(
          from,
          to,
          "propose",
          toBinary(ProposeRequestSchema, request),
          (bytes) => fromBinary(ProposeResponseSchema, bytes),
          options,
        ) as Promise<ProposeResponse>,
      read: (request: ReadRequest, options?: { deadlineMs?: number; signal?: AbortSignal }) =>
        this.call(
          from,
          to,
          "read",
          toBinary(ReadRequestSchema, request),
          (bytes) => fromBinary(ReadResponseSchema, bytes),
          options,
        ) as Promise<ReadResponse>,
      close: () => undefined,
    };
  }

  private call(
    from: string,
    to: NodeId,
    method: Method,
    requestBytes: Uint8Array,
    decode: (bytes: Uint8Array) => ProposeResponse | ReadResponse,
    options: { deadlineMs?: number; signal?: AbortSignal } = {},
  ): Promise<ProposeResponse | ReadResponse> {
    const notSent = (code: ErrorCode, message: string) => new LedgerError(code, message, { applied: "no" });
    if (options.signal?.aborted) return Promise.reject(notSent("CANCELLED", "Cancelled on client"));
    const deadlineMs = options.deadlineMs ?? this.world.now + callDeadlineDefaultMs;
    this.stats.callsSent++;
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        cancelDeadline();
        options.signal?.removeEventListener("abort", onAbort);
        fn();
      };
      const onAbort = (): void => settle(() => reject(new LedgerError("CANCELLED", "Cancelled on client")));
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const cancelDeadline = this.world.at(deadlineMs - this.world.now, () =>
        settle(() => reject(new LedgerError("DEADLINE_EXCEEDED", `deadline exceeded waiting for node ${to}`))),
      );
      const target = this.nodes.get(to);
      if (target?.host === undefined) {
        // Connection refused: nothing was sent.
        this.world.at(this.latency(), () =>
          settle(() => reject(notSent("UNAVAILABLE", `node ${to} is down; not applied`))),
        );
        return;
      }
      if (!this.isOpen(from, to)) {
        this.stats.callsLost++;
        return; // lost in a partition: the caller's deadline or attempt timeout ends it
      }
      this.world.at(this.latency(), () => {
        const node = this.nodes.get(to);
        if (node?.host === undefined || node.service === undefined) {
          settle(() => reject(notSent("UNAVAILABLE", `node ${to} is down; not applied`)));
          return;
        }
        if (!this.isOpen(from, to)) {
          this.stats.callsLost++;
          return;
        }
        const incarnation = node.owner;
        // Only calls that arrive in the healthy stretch are held to its standard.
        const arrivedHealthy = this.healthy;
        const controller = new AbortController();
        const cancelServerDeadline = this.world.at(deadlineMs - this.world.now, () => controller.abort(), incarnation);
        const ctx: HandlerContext = { deadlineMs, signal: controller.signal, peer: from };
        // The node dies holding the call: the stream breaks, and the call may have been applied.
        const onCrash = (): void => {
          this.world.at(this.latency(), () =>
            settle(() =>
              reject(new LedgerError("UNAVAILABLE", `call stream to node ${to} broke; the call may have been applied`)),
            ),
          );
        };
        node.onCrash.add(onCrash);
        const handled: Promise<Uint8Array> =
          method === "propose"
            ? node.service
                .propose(fromBinary(ProposeRequestSchema, requestBytes), ctx)
                .then((r) => toBinary(ProposeResponseSchema, r))
            : node.service
                .read(fromBinary(ReadRequestSchema, requestBytes), ctx)
                .then((r) => toBinary(ReadResponseSchema, r));
        handled.then(
          (bytes) =>
            this.answer(from, to, incarnation, onCrash, node, cancelServerDeadline, settle, () =>
              resolve(decode(bytes)),
            ),
          (e: unknown) => {
            let error: LedgerError;
            if (arrivedHealthy && this.healthy && isLedgerError(e) && unhealthyAnswers.test(e.message))
              this.unhealthy.push(`node ${to} answered a ${method} in a healthy cluster with ${e.code}: ${e.message}`);
            if (isLedgerError(e)) error = new LedgerError(e.code, e.message, { ...e.details });
            else {
              this.onViolation(`node ${to} ${method} threw a non-LedgerError: ${String(e)}`);
              error = new LedgerError("INTERNAL", String(e));
            }
            this.answer(from, to, incarnation, onCrash, node, cancelServerDeadline, settle, () => reject(error));
          },
        );
      });
    });
  }

  /** Sends a node's answer back, unless the node died before it could (onCrash answers then). */
  private answer(
    from: string,
    to: NodeId,
    incarnation: Owner,
    onCrash: () => void,
    node: NetworkNode,
    cancelServerDeadline: () => void,
    settle: (fn: () => void) => void,
    deliver: () => void,
  ): void {
    cancelServerDeadline();
    if (!incarnation.alive) return;
    node.onCrash.delete(onCrash);
    this.world.at(this.latency(), () => {
      if (!this.isOpen(to, from)) {
        this.stats.callsLost++;
        return; // the answer is lost: the caller times out not knowing
      }
      settle(deliver);
    });
  }
}
