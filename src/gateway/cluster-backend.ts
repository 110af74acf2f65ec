// The gateway's LedgerBackend over a cluster: account id -> shard -> the node believed to lead
// it, through the nodes' internal API (NodeService). Retries follow leader hints, move past
// nodes that are down, pause with backoff, and always resend the same encoded command: the ids
// in it were drawn once by the service, so however many attempts reach a replica the command is
// applied at most once. No call outlives the caller's deadline. The retry loop itself is in
// shard-caller.ts; this module adds what is specific to ledger commands and queries.

import type { TransportSecurity } from "../security/transport-security.js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { assert } from "../base/assert.js";
import { isLedgerError, LedgerError } from "../base/errors.js";
import type { Logger } from "../base/logger.js";
import {
  gatewayAnswerMarginFraction,
  gatewayAnswerMarginMsMax,
  gatewayAttemptTimeoutMs,
  gatewayDeadlineMsMax,
} from "./limits.js";
import type { ClusterConfig, NodeId, ShardConfig, ShardId } from "../cluster/config.js";
import { shardForAccount } from "../cluster/shard-map.js";
import {
  CommandResultSchema,
  CommandSchema,
  QueryResultSchema,
  QuerySchema,
  type Command,
  type CommandResult,
  type Query,
  type QueryResult,
} from "../gen/ledger/core/v1/core_pb.js";
import { ProposeRequestSchema, ReadConsistency, ReadRequestSchema } from "../gen/ledger/node/v1/node_pb.js";
import type { CallOptions, LedgerBackend, UpdateItem } from "../ledger/backend.js";
import { commandAccountId } from "../ledger/core.js";
import {
  describeCommand,
  queryDeadlineError,
  requestIdOf,
  updateDeadlineError,
  updateFaultError,
  updateUnknownOutcomeError,
  type AttemptLog,
} from "./call-outcome.js";
import {
  gatewayBackoffBaseMs,
  gatewayBackoffCapMs,
  gatewayDeadlineDefaultMs,
  gatewayLeaderHintFollowsMax,
} from "./retry-policy.js";
import { ShardCaller, type OwnedNodeClient } from "./shard-caller.js";
import { systemClock, type Clock } from "../base/clock.js";

export interface ClusterBackendOptions {
  /** A validated config (loadClusterConfig). */
  config: ClusterConfig;
  logger: Logger;
  /** How channels to the nodes are secured: mutual TLS checking each node's identity. */
  security: TransportSecurity;
  /** Deadline of a call whose caller set none; gatewayDeadlineDefaultMs by default. */
  deadlineDefaultMs?: number;
  /** NOT_LEADER hints followed at once between two pauses; gatewayLeaderHintFollowsMax by default. */
  leaderHintFollowsMax?: number;
  attemptTimeoutMs?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Jitter source, uniform in [0, 1); Math.random by default. */
  random?: () => number;
  /** Time and timers: the system's by default, the simulator's virtual ones. */
  clock?: Clock;
  /** The client of each node: a Calls stream over gRPC (secured by `security`) by default, the
   * simulator's network. */
  clientFor?: (nodeId: NodeId) => OwnedNodeClient;
}

/** The items of one updateMany that go to one shard: their positions and encoded commands. */
interface ShardBatch {
  shard: ShardConfig;
  positions: number[];
  commands: Uint8Array[];
}

export class ClusterBackend implements LedgerBackend {
  private readonly config: ClusterConfig;
  private readonly logger: Logger;
  private readonly deadlineDefaultMs: number;
  private readonly caller: ShardCaller;
  private readonly clock: Clock;

  constructor(options: ClusterBackendOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.deadlineDefaultMs = options.deadlineDefaultMs ?? gatewayDeadlineDefaultMs;
    this.clock = options.clock ?? systemClock;
    assert(this.deadlineDefaultMs > 0, "ClusterBackend: deadlineDefaultMs must be positive");
    this.caller = new ShardCaller({
      config: this.config,
      logger: this.logger,
      channelTo: (nodeId) => options.security.channelTo({ role: "node", name: nodeId }),
      ...(options.clientFor ? { clientFor: options.clientFor } : {}),
      clock: this.clock,
      deadlineDefaultMs: this.deadlineDefaultMs,
      hintFollowsMax: options.leaderHintFollowsMax ?? gatewayLeaderHintFollowsMax,
      attemptTimeoutMs: options.attemptTimeoutMs ?? gatewayAttemptTimeoutMs,
      backoff: {
        backoffBaseMs: options.backoffBaseMs ?? gatewayBackoffBaseMs,
        backoffCapMs: options.backoffCapMs ?? gatewayBackoffCapMs,
        random: options.random ?? Math.random,
      },
    });
  }

  async update(accountId: bigint, command: Command, options: CallOptions = {}): Promise<CommandResult> {
    assert(
      commandAccountId(command) === accountId,
      () => `update routed by account ${accountId} carries a command for another account`,
    );
    const shard = shardForAccount(this.config, accountId);
    const deadlineMs = this.deadlineOf(options);
    // Encoded once: every attempt sends these exact bytes (see the header comment).
    const request = create(ProposeRequestSchema, {
      shardId: shard.id,
      command: toBinary(CommandSchema, command),
      requestId: requestIdOf(command),
    });
    const answer = await this.caller.call({
      shard,
      deadlineMs,
      write: true,
      stale: false,
      send: (client, signal) => client.propose(request, { deadlineMs, signal }),
      leaderOf: (response) => response.leaderNodeId,
      onDeadline: (log) => updateDeadlineError(command, shard.id, log),
      onUnknownOutcome: (log) => updateUnknownOutcomeError(command, shard.id, log),
    });
    const result = readResult(answer.value.result, command, shard.id);
    if (result instanceof LedgerError) throw result;
    // A settle or cancel retried after its first attempt was applied gets the record from the
    // core itself (the command's attempt_id), so the node's answer stands as it is.
    return result;
  }

  /**
   * One proposal per shard: the items of a shard go to its leader as ONE ProposeRequest (one log
   * entry), encoded once and resent unchanged by every retry, like update's single command. A
   * shard's call that fails fails each of its items with the error update would have given it;
   * the other shards' items are not touched.
   */
  async updateMany(items: readonly UpdateItem[], options: CallOptions = {}): Promise<(CommandResult | LedgerError)[]> {
    const deadlineMs = this.deadlineOf(options);
    const groups = new Map<ShardId, ShardBatch>();
    for (const [position, { accountId, command }] of items.entries()) {
      assert(
        commandAccountId(command) === accountId,
        () => `update routed by account ${accountId} carries a command for another account`,
      );
      // A retry resends the whole batch: safe for creates (their ids are in the command); the
      // batch API creates only.
      assert(
        command.kind.case === "createTransaction" || command.kind.case === "createAccount",
        "updateMany takes create commands only",
      );
      const shard = shardForAccount(this.config, accountId);
      let group = groups.get(shard.id);
      if (group === undefined) groups.set(shard.id, (group = { shard, positions: [], commands: [] }));
      group.positions.push(position);
      group.commands.push(toBinary(CommandSchema, command));
    }
    const outcomes = new Array<CommandResult | LedgerError>(items.length);
    await Promise.all([...groups.values()].map((group) => this.proposeShardBatch(group, items, outcomes, deadlineMs)));
    return outcomes;
  }

  /** Sets the outcome of each of the group's items; never throws: a shard's failure stays with
   * its own items, and the other shards' outcomes are kept. */
  private async proposeShardBatch(
    group: ShardBatch,
    items: readonly UpdateItem[],
    outcomes: (CommandResult | LedgerError)[],
    deadlineMs: number,
  ): Promise<void> {
    const { shard, positions } = group;
    const commandAt = (k: number): Command => items[positions[k]!]!.command;
    const request = create(ProposeRequestSchema, { shardId: shard.id, commands: group.commands });
    // The retry loop ends with one error for the call; each item gets its own wording of it.
    let perItem: ((command: Command) => LedgerError) | undefined;
    const ended =
      (wording: typeof updateDeadlineError) =>
      (log: AttemptLog): LedgerError => {
        perItem = (command) => wording(command, shard.id, log);
        return wording(commandAt(0), shard.id, log);
      };
    let results: readonly Uint8Array[];
    try {
      const answer = await this.caller.call({
        shard,
        deadlineMs,
        write: true,
        stale: false,
        send: (client, signal) => client.propose(request, { deadlineMs, signal }),
        leaderOf: (response) => response.leaderNodeId,
        onDeadline: ended(updateDeadlineError),
        onUnknownOutcome: ended(updateUnknownOutcomeError),
      });
      results = answer.value.results;
    } catch (e) {
      if (isLedgerError(e)) {
        for (const [k, position] of positions.entries()) outcomes[position] = perItem?.(commandAt(k)) ?? e;
      } else {
        // A bug of ours while the batch was out: it may have reached the node.
        this.logger.error({ shard: shard.id, err: e }, "internal error in a batch proposal");
        const fault =
          "an internal error in the gateway ended the call (see its log); it may or may not have been applied";
        for (const [k, position] of positions.entries())
          outcomes[position] = updateFaultError(commandAt(k), shard.id, fault);
      }
      return;
    }
    // The node answered, so the batch's entry was applied: an answer that cannot be read
    // leaves each item's outcome unknown, not failed.
    if (results.length !== positions.length) {
      const fault = `it answered a batch of ${positions.length} commands with ${results.length} results`;
      for (const [k, position] of positions.entries())
        outcomes[position] = updateFaultError(commandAt(k), shard.id, fault);
      return;
    }
    for (const [k, position] of positions.entries()) {
      const result = readResult(results[k]!, commandAt(k), shard.id);
      // No kind: the shard refused to apply this command (the node checks commands before
      // proposing them, so a correct gateway never sees it); it was not applied.
      outcomes[position] =
        result instanceof LedgerError || result.kind.case !== undefined
          ? result
          : new LedgerError(
              "INTERNAL",
              `${shard.id} refused to apply ${describeCommand(commandAt(k))}; it was not applied`,
            );
    }
  }

  async query(accountId: bigint, query: Query, options: CallOptions = {}): Promise<QueryResult> {
    const shard = shardForAccount(this.config, accountId);
    const deadlineMs = this.deadlineOf(options);
    const stale = options.stale === true;
    const request = create(ReadRequestSchema, {
      shardId: shard.id,
      query: toBinary(QuerySchema, query),
      consistency: stale ? ReadConsistency.STALE : ReadConsistency.LINEARIZABLE,
    });
    const answer = await this.caller.call({
      shard,
      deadlineMs,
      write: false,
      stale,
      send: (client, signal) => client.read(request, { deadlineMs, signal }),
      onDeadline: (log) => queryDeadlineError(query, shard.id, log),
    });
    return fromBinary(QueryResultSchema, answer.value.result);
  }

  /** Closes every node channel; calls still running fail with UNAVAILABLE. */
  async close(): Promise<void> {
    this.caller.close();
  }

  /** The node this gateway currently believes leads `shardId` (for tests and admin tools). */
  cachedLeader(shardId: string): NodeId {
    return this.caller.cachedLeader(shardId);
  }

  /**
   * The caller's deadline, less a margin: the gateway gives up a little early so that its own
   * answer (which says whether the write may have been applied) reaches the caller before the
   * caller's gRPC timer fires with a bare DEADLINE_EXCEEDED.
   */
  private deadlineOf(options: CallOptions): number {
    if (options.deadlineMs === undefined) return this.clock.nowMs() + this.deadlineDefaultMs;
    // A call retries the same command bytes (same timestamp) until its deadline; the nodes refuse
    // a command older than commandTimestampBehindMsMax, so a longer deadline is cut to the cap
    // (the caller then hears "outcome unknown" and retries with its request_id).
    const deadlineMs = Math.min(options.deadlineMs, this.clock.nowMs() + gatewayDeadlineMsMax);
    const remaining = deadlineMs - this.clock.nowMs();
    return deadlineMs - Math.min(gatewayAnswerMarginMsMax, Math.max(0, remaining) * gatewayAnswerMarginFraction);
  }
}

/** A command's result as its shard encoded it, or the unknown-outcome error when it does not decode. */
function readResult(bytes: Uint8Array, command: Command, shardId: ShardId): CommandResult | LedgerError {
  try {
    return fromBinary(CommandResultSchema, bytes);
  } catch (e) {
    return updateFaultError(
      command,
      shardId,
      `it answered, so the command reached its log, but the result does not decode (${String(e)})`,
    );
  }
}
