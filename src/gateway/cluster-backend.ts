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
  CoreErrorCode,
  QueryResultSchema,
  QuerySchema,
  type Command,
  type CommandResult,
  type Query,
  type QueryResult,
} from "../gen/ledger/core/v1/core_pb.js";
import { ProposeRequestSchema, ReadConsistency, ReadRequestSchema } from "../gen/ledger/node/v1/node_pb.js";
import { TransactionStatus } from "../gen/ledger/v1/ledger_pb.js";
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
import { getTransactionQuery } from "./core-requests.js";
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
    if (answer.before.mayHaveApplied && refusedAsNoLongerPending(command, result)) {
      return this.confirmEarlierAttempt(accountId, command, result, shard, deadlineMs, answer.before);
    }
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
      // A retry resends the whole batch: safe for creates (their ids are in the command), not
      // for settle/cancel, whose retries need update's confirmation read (confirmEarlierAttempt).
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

  /**
   * Why this exists: an earlier attempt of this same call may have been applied (it reached a
   * node and then timed out or lost its connection). The retry carries the same command, so if
   * the first one was applied, the retry meets a transaction that is no longer pending and the
   * core refuses it with FAILED_PRECONDITION. Passing that refusal on would tell the caller the
   * settle (cancel) failed when it was our own first attempt that did it. So read the
   * transaction (linearizable: it reflects every applied command); if it has the status this
   * command sets, the command took effect: answer with the record, as the first attempt would
   * have. Otherwise the refusal is real (someone else moved it to the other status).
   */
  private async confirmEarlierAttempt(
    accountId: bigint,
    command: Command,
    refusal: CommandResult,
    shard: ShardConfig,
    deadlineMs: number,
    before: AttemptLog,
  ): Promise<CommandResult> {
    const { kind } = command;
    assert(
      kind.case === "settleTransaction" || kind.case === "cancelTransaction",
      "only settle and cancel are confirmed",
    );
    const wanted = kind.case === "settleTransaction" ? TransactionStatus.SETTLED : TransactionStatus.CANCELLED;
    let read: QueryResult;
    try {
      read = await this.query(accountId, getTransactionQuery(kind.value), { deadlineMs });
    } catch (e) {
      if (!isLedgerError(e)) throw e;
      throw updateDeadlineError(command, shard.id, { ...before, attempts: before.attempts + 1, lastError: e });
    }
    if (read.kind.case === "transaction" && read.kind.value.status === wanted) {
      this.logger.debug(
        { shard: shard.id },
        "retried command was refused as already done; an earlier attempt applied it",
      );
      return create(CommandResultSchema, { kind: { case: "transaction", value: read.kind.value } });
    }
    return refusal;
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

/** A settle or cancel refused because the transaction is no longer pending (DESIGN.md §5). */
function refusedAsNoLongerPending(command: Command, result: CommandResult): boolean {
  const retriable = command.kind.case === "settleTransaction" || command.kind.case === "cancelTransaction";
  return retriable && result.kind.case === "error" && result.kind.value.code === CoreErrorCode.FAILED_PRECONDITION;
}
