// The sending end of Raft traffic to one peer node: ONE long-lived bidi stream
// (RaftTransportService/Messages) carries every shard's messages, one MessagesRequest per loop
// turn. Raft tolerates loss, so nothing is ever queued here beyond grpc-js's own bounded
// buffer: while the stream is down, not yet confirmed by the peer, or full (write() returned
// false and 'drain' has not come), a batch is dropped and the core is told (onUnreachable) so it
// stops pipelining appends to that replica. (grpc-js's buffer is bounded: write() returns false
// once 16 messages, its object-mode high-water mark, wait to go out.) A failed stream is
// reopened on the same channel after a capped exponential backoff. Snapshots go on their own
// stream (sendSnapshot).
//
// "Up" means the peer sent response headers: our server sends them as soon as it accepts the
// stream, so a batch is written only into a stream that reached the peer.

import { Client, Metadata, type ClientDuplexStream } from "@grpc/grpc-js";
import type { ChannelSecurity } from "./channel-security.js";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Logger } from "../base/logger.js";
import { assert } from "../base/assert.js";
import { LedgerError } from "../base/errors.js";
import { grpcMessageBytesMax } from "./limits.js";
import {
  MessagesRequestSchema,
  MessagesResponseSchema,
  RaftTransportService,
  type MessagesRequest,
  type MessagesResponse,
  type ShardMessage,
} from "../gen/ledger/node/v1/node_pb.js";
import { MessageType, type Message } from "../raft/index.js";
import { channelOptions, methodPath } from "./grpc-service.js";
import { messageToProto } from "./raft-codec.js";
import { sendSnapshot, type SnapshotPairBytes } from "./snapshot-stream.js";
import {
  peerConnectTimeoutMs,
  peerReconnectDelayMsMax,
  peerReconnectDelayMsMin,
  peerStreamStableMs,
  peerSnapshotsInFlightMax,
} from "./limits.js";

export interface OutgoingMessage {
  shardId: string;
  message: Message;
}

export interface PeerSenderOptions {
  selfNodeId: string;
  configVersion: number;
  peerNodeId: string;
  address: string;
  /** TLS to the peer, checking that it is node `peerNodeId` (or insecure). */
  channel: ChannelSecurity;
  logger: Logger;
  /** Called once per (shard, replica) of a dropped batch: the driver calls reportUnreachable. */
  onUnreachable: (shardId: string, to: number) => void;
  /** Outcome of every snapshot sent with sendSnapshot: the driver calls reportSnapshot. */
  onSnapshotDone?: (shardId: string, to: number, ok: boolean) => void;
  /** Every change of the stream's state (metrics, tests). */
  onStateChange?: (state: PeerStreamState) => void;
}

export type PeerStreamState = "connecting" | "up" | "down" | "closed";

const messagesPath = methodPath(RaftTransportService.method.messages);

// Batches are encoded in send() (so their size is known); the stream passes the bytes through.
const passBytes = (b: Buffer): Buffer => b;
const decodeResponse = (b: Buffer): MessagesResponse => fromBinary(MessagesResponseSchema, b);

export class PeerSender {
  private readonly client: Client;
  private stream: ClientDuplexStream<Buffer, MessagesResponse> | undefined;
  private streamState: PeerStreamState = "connecting";
  private writable = false;
  private reconnectDelayMs = peerReconnectDelayMsMin;
  private upSinceMs: number | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  /** Whether the last logged state was "up"; undefined before the first log line. */
  private loggedUp: boolean | undefined;
  private snapshotsInFlight = 0;
  private readonly snapshotAborts = new Set<AbortController>();
  /** Streams opened so far (tests and metrics). */
  streamsOpened = 0;
  /** Batches dropped because the stream was down or full. */
  batchesDropped = 0;

  constructor(private readonly o: PeerSenderOptions) {
    this.client = new Client(o.address, o.channel.credentials, {
      ...channelOptions,
      ...o.channel.options,
      // grpc-js would otherwise back off up to 2 minutes between connection attempts, far beyond
      // our own retry cadence: a restarted peer would stay unreachable that long.
      "grpc.initial_reconnect_backoff_ms": peerReconnectDelayMsMin,
      "grpc.max_reconnect_backoff_ms": peerReconnectDelayMsMax,
    });
    this.open();
  }

  get state(): PeerStreamState {
    return this.streamState;
  }

  /** Sends one loop turn's messages for this peer as one stream message, or drops them. */
  send(messages: readonly OutgoingMessage[]): void {
    if (messages.length === 0 || this.streamState === "closed") return;
    if (this.streamState !== "up" || !this.writable) return this.drop(messages);
    const shardMessages = new Array<ShardMessage>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const { shardId, message } = messages[i]!;
      assert(
        message.type !== MessageType.Snapshot,
        "Snapshot messages go through sendSnapshot, not the message stream",
      );
      shardMessages[i] = { $typeName: "ledger.node.v1.ShardMessage", shardId, message: messageToProto(message) };
    }
    this.writeBatch(messages, shardMessages);
  }

  /**
   * Streams a snapshot to the peer and reports the outcome to onSnapshotDone. Rejects with
   * RESOURCE_EXHAUSTED when peerSnapshotsInFlightMax are already under way.
   */
  async sendSnapshot(
    shardId: string,
    message: Message,
    pairs: AsyncIterable<SnapshotPairBytes>,
    deadlineMs: number,
  ): Promise<void> {
    let ok = false;
    const abort = new AbortController();
    try {
      if (this.streamState === "closed")
        throw new LedgerError("UNAVAILABLE", `sender to ${this.o.peerNodeId} is closed`);
      if (this.snapshotsInFlight >= peerSnapshotsInFlightMax) {
        throw new LedgerError(
          "RESOURCE_EXHAUSTED",
          `${peerSnapshotsInFlightMax} snapshots already in flight to ${this.o.peerNodeId}`,
        );
      }
      this.snapshotsInFlight++;
      this.snapshotAborts.add(abort);
      try {
        await sendSnapshot({
          address: this.o.address,
          selfNodeId: this.o.selfNodeId,
          configVersion: this.o.configVersion,
          shardId,
          message,
          pairs,
          deadlineMs,
          signal: abort.signal,
          client: this.client,
        });
        ok = true;
      } finally {
        this.snapshotsInFlight--;
        this.snapshotAborts.delete(abort);
      }
    } catch (e) {
      this.o.logger.warn(
        { peer: this.o.peerNodeId, shardId, to: message.to, err: (e as Error).message },
        "snapshot send failed",
      );
      throw e;
    } finally {
      this.o.onSnapshotDone?.(shardId, message.to, ok);
    }
  }

  /** Ends the stream and the channel; later sends are ignored. */
  close(): void {
    if (this.streamState === "closed") return;
    this.setState("closed");
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.connectTimer);
    for (const abort of this.snapshotAborts) abort.abort();
    const stream = this.stream;
    this.stream = undefined;
    stream?.end();
    this.client.close();
  }

  private writeBatch(messages: readonly OutgoingMessage[], shardMessages: ShardMessage[]): void {
    const request: MessagesRequest = {
      $typeName: "ledger.node.v1.MessagesRequest",
      fromNodeId: this.o.selfNodeId,
      configVersion: this.o.configVersion,
      messages: shardMessages,
    };
    const bytes = toBinary(MessagesRequestSchema, request);
    if (bytes.length > grpcMessageBytesMax) {
      // Rare (many shards' full appends in one turn): split rather than kill the stream with an
      // oversized message. A single message above the limit cannot be sent at all.
      if (messages.length === 1) {
        this.o.logger.warn(
          { peer: this.o.peerNodeId, bytes: bytes.length },
          "raft message exceeds the gRPC message limit; dropped",
        );
        return this.drop(messages);
      }
      const half = messages.length >> 1;
      this.writeBatch(messages.slice(0, half), shardMessages.slice(0, half));
      if (this.streamState === "up" && this.writable) this.writeBatch(messages.slice(half), shardMessages.slice(half));
      else this.drop(messages.slice(half));
      return;
    }
    const stream = this.stream;
    assert(stream !== undefined, "an up stream exists");
    // Written even when this returns false: grpc-js took it; the next turn's batch is dropped.
    this.writable = stream.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  private drop(messages: readonly OutgoingMessage[]): void {
    this.batchesDropped++;
    const seen = new Set<string>();
    for (const { shardId, message } of messages) {
      const key = `${shardId}\u0000${message.to}`;
      if (seen.has(key)) continue;
      seen.add(key);
      this.o.onUnreachable(shardId, message.to);
    }
  }

  private open(): void {
    assert(this.stream === undefined, "one stream per peer");
    this.setState("connecting");
    this.writable = false;
    this.streamsOpened++;
    const stream = this.client.makeBidiStreamRequest(messagesPath, passBytes, decodeResponse, new Metadata(), {});
    this.stream = stream;
    this.connectTimer = setTimeout(() => this.failed(stream, "no answer from the peer"), peerConnectTimeoutMs);
    stream.on("metadata", () => {
      if (this.stream !== stream) return;
      clearTimeout(this.connectTimer);
      this.writable = true;
      this.upSinceMs = Date.now();
      this.logState(true);
      this.setState("up"); // last: a listener may send at once
    });
    stream.on("drain", () => {
      if (this.stream === stream) this.writable = true;
    });
    stream.on("data", () => undefined); // the peer sends nothing; keep the readable side flowing
    stream.on("error", (e: Error) => this.failed(stream, e.message));
    stream.on("end", () => this.failed(stream, "stream ended by the peer"));
    stream.on("close", () => this.failed(stream, "stream closed"));
  }

  private failed(stream: ClientDuplexStream<Buffer, MessagesResponse>, why: string): void {
    if (this.stream !== stream || this.streamState === "closed") return; // already handled
    clearTimeout(this.connectTimer);
    this.stream = undefined;
    this.writable = false;
    stream.cancel();
    this.logState(false, why);
    this.setState("down");
    // The delay starts over only after a stream that stayed up a while: a peer that accepts
    // streams and ends them at once still gets the doubling delay, not a reconnect storm.
    if (this.upSinceMs !== undefined && Date.now() - this.upSinceMs >= peerStreamStableMs)
      this.reconnectDelayMs = peerReconnectDelayMsMin;
    this.upSinceMs = undefined;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, peerReconnectDelayMsMax);
    this.reconnectTimer = setTimeout(() => {
      if (this.streamState === "down") this.open();
    }, delay);
  }

  private setState(next: PeerStreamState): void {
    if (next === this.streamState) return;
    this.streamState = next;
    this.o.onStateChange?.(next);
  }

  private logState(up: boolean, why?: string): void {
    if (this.loggedUp === up) return;
    this.loggedUp = up;
    const fields = { peer: this.o.peerNodeId, address: this.o.address };
    if (up) this.o.logger.info(fields, "peer stream up");
    else this.o.logger.warn({ ...fields, reason: why }, "peer stream down");
  }
}
