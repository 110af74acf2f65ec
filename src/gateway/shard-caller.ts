// The retry loop under every cluster call: which node of a shard to ask, what to do when it
// fails, how long to pause, and when to give up. It knows nothing of ledger semantics; the
// caller supplies what to send and the error to end with when the deadline passes. One channel
// per node, created once, and on it one long-lived Calls stream that carries every call to that
// node, batched per event-loop turn (src/transport/call-stream-client.ts).

import type { ChannelSecurity } from "../transport/channel-security.js";
import { assert } from "../base/assert.js";
import { LedgerError, isLedgerError } from "../base/errors.js";
import type { Logger } from "../base/logger.js";
import type { ClusterConfig, NodeId, ShardConfig } from "../cluster/config.js";
import { NodeCallStream } from "../transport/call-stream-client.js";
import { systemClock, type Clock } from "../base/clock.js";
import type { AttemptLog } from "./call-outcome.js";
import { LeaderCache } from "./leader-cache.js";
import {
  backoffDelayMs,
  gatewayReconnectBackoffInitialMs,
  gatewayReconnectBackoffMaxMs,
  proposalMayHaveApplied,
  retryActionFor,
  type BackoffTunables,
} from "./retry-policy.js";

/** What a ShardCall sends through: propose and read, shaped like the unary client's. */
export type NodeClient = Pick<NodeCallStream, "propose" | "read">;

/** A node client the caller owns: closed with the caller. */
export type OwnedNodeClient = NodeClient & { close(): void };

/** One call to a shard: what to send to a node, and what to say if the deadline passes. */
export interface ShardCall<T> {
  shard: ShardConfig;
  deadlineMs: number;
  /** A proposal: attempts that may have been appended are tracked for the final error. */
  write: boolean;
  /** A stale read: any replica may answer, so an answer says nothing about leadership. */
  stale: boolean;
  send(client: NodeClient, signal: AbortSignal): Promise<T>;
  /** The leader an answer names (a proposal forwarded by a follower), if any. */
  leaderOf?(value: T): NodeId | undefined;
  onDeadline(log: AttemptLog): LedgerError;
  /** A write that met a definite error after an earlier attempt may have been applied. */
  onUnknownOutcome?(log: AttemptLog): LedgerError;
}

export interface Answer<T> {
  value: T;
  /** What the attempts before the answering one saw. */
  before: AttemptLog;
}

export interface ShardCallerOptions {
  config: ClusterConfig;
  logger: Logger;
  /** The channel security of the stream to node `nodeId` (TLS checking its identity). */
  channelTo(nodeId: NodeId): ChannelSecurity;
  /** The client of node `nodeId`: a Calls stream over gRPC secured by channelTo by default;
   * the simulator's network. */
  clientFor?: (nodeId: NodeId) => OwnedNodeClient;
  /** Time and timers: the system's by default, the simulator's virtual ones. */
  clock?: Clock;
  /** Deadline the node clients fall back to; every call here passes its own. */
  deadlineDefaultMs: number;
  hintFollowsMax: number;
  /** A node call without an answer after this long is given up and tried elsewhere. */
  attemptTimeoutMs: number;
  backoff: BackoffTunables;
}

/** Marks the error of an attempt the gateway gave up on (the node held it without answering). */
const attemptTimedOutDetail = "attemptTimedOut";

export class ShardCaller {
  private readonly logger: Logger;
  private readonly clients = new Map<NodeId, OwnedNodeClient>();
  private readonly clock: Clock;
  private readonly leaders: LeaderCache;
  private readonly hintFollowsMax: number;
  private readonly attemptTimeoutMs: number;
  private readonly backoff: BackoffTunables;
  /** Node calls and pauses in flight, so close() can end them at once. */
  private readonly inFlight = new Set<AbortController>();
  private readonly pauses = new Set<() => void>();
  private closed = false;

  constructor(options: ShardCallerOptions) {
    this.logger = options.logger;
    this.hintFollowsMax = options.hintFollowsMax;
    this.attemptTimeoutMs = options.attemptTimeoutMs;
    this.backoff = options.backoff;
    this.clock = options.clock ?? systemClock;
    assert(
      this.hintFollowsMax >= 0 &&
        this.attemptTimeoutMs > 0 &&
        this.backoff.backoffBaseMs > 0 &&
        this.backoff.backoffCapMs >= this.backoff.backoffBaseMs,
      "ShardCaller: bad tunables",
    );
    this.leaders = new LeaderCache(options.config, this.logger);
    for (const node of options.config.nodes) {
      assert(!this.clients.has(node.id), `duplicate node id ${node.id}: config not validated`);
      this.clients.set(node.id, options.clientFor?.(node.id) ?? this.callStreamTo(node.id, node.address, options));
    }
  }

  private callStreamTo(nodeId: NodeId, address: string, options: ShardCallerOptions): NodeCallStream {
    const security = options.channelTo(nodeId);
    return new NodeCallStream({
      address,
      defaultDeadlineMs: options.deadlineDefaultMs,
      logger: this.logger,
      credentials: security.credentials,
      channel: {
        ...security.options,
        "grpc.initial_reconnect_backoff_ms": gatewayReconnectBackoffInitialMs,
        "grpc.max_reconnect_backoff_ms": gatewayReconnectBackoffMaxMs,
      },
    });
  }

  /** The node currently believed to lead `shardId`. */
  cachedLeader(shardId: string): NodeId {
    return this.leaders.leader(shardId);
  }

  /** Ends pauses and in-flight node calls (they fail with UNAVAILABLE) and closes every channel. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
    for (const wake of this.pauses) wake();
    for (const client of this.clients.values()) client.close();
  }

  /**
   * Tries the shard's nodes until one answers, a definite error comes back, or the deadline
   * passes. Order: the cached leader; a NOT_LEADER hint at once (at most hintFollowsMax times
   * between pauses, so nodes pointing at each other cannot loop); otherwise the next replica not
   * yet tried in this round; after a round in which every replica failed, a backoff pause.
   */
  async call<T>(call: ShardCall<T>): Promise<Answer<T>> {
    const shardId = call.shard.id;
    const log: AttemptLog = { attempts: 0, lastError: undefined, mayHaveApplied: false };
    const failedThisRound = new Set<NodeId>();
    let node = this.leaders.leader(shardId);
    let hintFollows = 0;
    let pauses = 0;
    for (;;) {
      this.throwIfClosed(call, log);
      if (this.clock.nowMs() >= call.deadlineMs) throw call.onDeadline(log);
      const before: AttemptLog = { ...log };
      log.attempts++;
      let error: LedgerError;
      try {
        const value = await this.attempt(node, call);
        // Only a write's answer says who leads: a follower answers reads too (ReadIndex).
        if (call.write) {
          const named = call.leaderOf?.(value);
          const leader = named !== undefined && named !== "" && this.leaders.hosts(shardId, named) ? named : node;
          this.leaders.set(shardId, leader, "answered");
        }
        return { value, before };
      } catch (e) {
        if (!isLedgerError(e)) throw e;
        error = e;
      }
      // Recorded before the closed check: an attempt that close() cut short may have reached
      // the node, and the call's final error must say so.
      log.lastError = error;
      if (call.write && proposalMayHaveApplied(error)) log.mayHaveApplied = true;
      this.throwIfClosed(call, log);
      const silent =
        error.details[attemptTimedOutDetail] === "yes" ||
        (error.code === "DEADLINE_EXCEEDED" && this.clock.nowMs() >= call.deadlineMs);
      if (silent && !call.stale) this.leaders.demote(shardId, node);
      const action = retryActionFor(error);
      if (action.kind === "fail") {
        // A definite error now does not undo an earlier attempt that may have been appended.
        throw call.write && log.mayHaveApplied && call.onUnknownOutcome ? call.onUnknownOutcome(log) : error;
      }
      this.logger.debug(
        { shard: shardId, node, attempt: log.attempts, code: error.code, err: error.message },
        "node call failed; retrying",
      );
      if (
        action.kind === "notLeader" &&
        action.leader !== undefined &&
        action.leader !== node &&
        this.leaders.hosts(shardId, action.leader) &&
        hintFollows < this.hintFollowsMax
      ) {
        hintFollows++;
        this.leaders.set(shardId, action.leader, "hint");
        node = action.leader;
        continue;
      }
      if (action.kind === "sameAfterPause") {
        await this.pause(pauses++, call.deadlineMs);
        continue;
      }
      failedThisRound.add(node);
      const next = this.leaders.candidates(shardId).find((n) => !failedThisRound.has(n));
      if (next !== undefined) {
        node = next;
        continue;
      }
      failedThisRound.clear();
      hintFollows = 0;
      await this.pause(pauses++, call.deadlineMs);
      node = this.leaders.leader(shardId);
    }
  }

  private async attempt<T>(nodeId: NodeId, call: ShardCall<T>): Promise<T> {
    const client = this.clients.get(nodeId);
    assert(client !== undefined, `no client for node ${nodeId}: config not validated`);
    const controller = new AbortController();
    this.inFlight.add(controller);
    // A node that holds a call (paused, partitioned, or forwarding to such a leader) is given
    // up after an attempt timeout, well inside the call's deadline, so another replica can
    // answer; the retry sends the same bytes, so it cannot apply twice.
    let timedOut = false;
    const cancelTimer = this.clock.after(this.attemptTimeoutMs, () => {
      timedOut = true;
      controller.abort();
    });
    try {
      return await call.send(client, controller.signal);
    } catch (e) {
      if (timedOut) {
        // The stream knows whether the call was ever written (it may have waited for the node
        // to accept the stream, or for 'drain'): a call never sent stays certainly not applied.
        const notSent = isLedgerError(e) && e.details.applied === "no";
        throw new LedgerError(
          "DEADLINE_EXCEEDED",
          `node ${nodeId} gave no answer within ${this.attemptTimeoutMs} ms${notSent ? "; the call was never sent" : ""}`,
          notSent ? { [attemptTimedOutDetail]: "yes", applied: "no" } : { [attemptTimedOutDetail]: "yes" },
        );
      }
      throw e;
    } finally {
      cancelTimer();
      this.inFlight.delete(controller);
    }
  }

  /** Waits the backoff for retry number `retry`, never past the deadline; close() ends it early. */
  private pause(retry: number, deadlineMs: number): Promise<void> {
    const delayMs = Math.max(0, Math.min(backoffDelayMs(retry, this.backoff), deadlineMs - this.clock.nowMs()));
    this.logger.debug({ delayMs: Math.round(delayMs), retry }, "backing off");
    return new Promise((resolve) => {
      const wake = (): void => {
        cancelTimer();
        this.pauses.delete(wake);
        resolve();
      };
      const cancelTimer = this.clock.after(delayMs, wake);
      this.pauses.add(wake);
    });
  }

  /**
   * Ends a call once close() has run. A write that may have reached a node ends as an unknown
   * outcome, worded by the caller (per item for a batch, with its request_id advice); the
   * shutdown is named as the last error, since it is what cut the call short.
   */
  private throwIfClosed(call: ShardCall<unknown>, log: AttemptLog): void {
    if (!this.closed) return;
    const shutdown = new LedgerError("UNAVAILABLE", "the gateway is shutting down");
    if (!call.write || !log.mayHaveApplied) throw shutdown;
    if (call.onUnknownOutcome !== undefined) throw call.onUnknownOutcome({ ...log, lastError: shutdown });
    throw new LedgerError("UNAVAILABLE", "the gateway is shutting down; the outcome of this update is unknown");
  }
}
