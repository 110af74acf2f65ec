// One shard replica on this node: its Raft group (RawNode over the on-disk log), its ledger
// state (LedgerStore under the replica's current generation prefix) and the reads waiting on
// it. Only the node loop calls the methods that touch the RawNode or build batches.

import { fromBinary } from "@bufbuild/protobuf";
import { assert } from "../base/assert.js";
import { LedgerError } from "../base/errors.js";
import type { Logger } from "../base/logger.js";
import type { ShardConfig, NodeId } from "../cluster/config.js";
import { CommandSchema, type Command } from "../gen/ledger/core/v1/core_pb.js";
import { EntryType, RawNode } from "../raft/index.js";
import { cachedShardKey } from "../cluster/shard-key.js";
import { coreRefusal } from "../ledger/command-rules.js";
import { commandAccountId } from "../ledger/core.js";
import type { Entry, RaftConfig, Ready, ReplicaId, Role } from "../raft/index.js";
import { LedgerStore, type LedgerDb } from "../storage/ledger-store.js";
import { ReplicaLog } from "../storage/replica-log.js";
import { ledgerPrefix } from "../storage/replica-keys.js";
import { decodeEntryData, type ProposalTag } from "./proposal-envelope.js";
import type { CommandOutcome } from "./waiters.js";

/** The chained batch of one loop turn. */
export type NodeBatch = ReturnType<LedgerDb["batch"]>;

/** One command's outcome: the core's result, or why this shard refused to apply it. */

/** An applied proposal (one log entry) for its proposer: one outcome per command, in order. */
export interface AppliedProposal {
  tag: ProposalTag;
  index: number;
  /** A batch entry (format 2): its proposer waits for the list; else exactly one outcome. */
  batch: boolean;
  outcomes: CommandOutcome[];
}

export interface ReplicaOptions {
  db: LedgerDb;
  shard: ShardConfig;
  shardIndex: number;
  replicaId: ReplicaId;
  nodeOfReplica: ReadonlyMap<ReplicaId, NodeId>;
  raft: Omit<RaftConfig, "id" | "peers" | "applied" | "logger">;
  logger: Logger;
}

export class Replica {
  readonly shard: ShardConfig;
  readonly shardIndex: number;
  readonly replicaId: ReplicaId;
  readonly raw: RawNode;
  readonly log: ReplicaLog;
  /** The ledger state commands are applied to (switched by a snapshot install). */
  store: LedgerStore;
  /**
   * What reads see: the store and applied index as of the last completed write. The loop
   * publishes them after each write; in between, `store` and the log's applied index may be
   * ahead of the database.
   */
  readable: { store: LedgerStore; applied: number };
  /** The commit index known at start: no stale read is served before it is applied. */
  private readonly replayTarget: number;
  private readonly logger: Logger;

  private constructor(options: ReplicaOptions, log: ReplicaLog) {
    this.shard = options.shard;
    this.shardIndex = options.shardIndex;
    this.replicaId = options.replicaId;
    this.log = log;
    this.logger = options.logger;
    this.store = new LedgerStore(options.db, ledgerPrefix(this.replicaId, log.generation()));
    this.replayTarget = log.hardState().commit;
    this.readable = { store: this.store, applied: log.applied() };
    // The core's step-by-step narrative ("became follower", votes, probes) goes to debug: the
    // node logs what an operator needs (role changes with node ids, snapshots) at info itself.
    const raftLogger = {
      debug: (msg: string) => this.logger.debug(msg),
      info: (msg: string) => this.logger.debug(msg),
      warn: (msg: string) => this.logger.warn(msg),
    };
    this.raw = new RawNode(
      {
        ...options.raft,
        id: this.replicaId,
        peers: options.shard.replicas.map((r) => r.id),
        applied: log.applied(),
        logger: raftLogger,
      },
      log,
    );
  }

  static async open(options: ReplicaOptions): Promise<Replica> {
    const log = await ReplicaLog.load(
      options.db,
      options.replicaId,
      options.shard.replicas.map((r) => r.id),
    );
    return new Replica(options, log);
  }

  /** The replica this shard prefers as leader: spreads the shards' leaders over the nodes. */
  get preferredLeader(): ReplicaId {
    const r = this.shard.replicas[this.shardIndex % this.shard.replicas.length];
    return r === undefined ? 0 : r.id;
  }

  get applied(): number {
    return this.log.applied();
  }

  /** False while replaying the log after a restart: stale reads wait until it is true. */
  get caughtUp(): boolean {
    return this.readable.applied >= this.replayTarget;
  }

  /** Called by the loop once its write is durable. */
  publishReadable(): void {
    if (this.readable.store === this.store && this.readable.applied === this.log.applied()) return;
    this.readable = { store: this.store, applied: this.log.applied() };
  }

  /** Role and leader as of the last Ready (the loop updates them; status() allocates). */
  role: Role = "follower";
  leader: ReplicaId = 0;
  /** The node's tick count when this replica last became leader. */
  leaderSinceTick = 0;

  get isLeader(): boolean {
    return this.role === "leader";
  }

  /**
   * Adds everything `rd` needs persisted and applied to `batch`; returns the proposals applied,
   * with their outcomes, for the proposers waiting on them. Entries that cannot be decoded are
   * skipped identically on every replica (they are corrupt or from a newer format) and logged.
   * A snapshot Raft installs must have been staged (by snapshot transfers) under `staged`.
   */
  async persistAndApply(
    rd: Ready,
    batch: NodeBatch,
    db: LedgerDb,
    staged: { generation: number } | undefined,
  ): Promise<AppliedProposal[]> {
    if (rd.snapshot !== undefined) {
      if (staged === undefined)
        throw new Error(
          `${this.shard.id}: Raft installs snapshot ${rd.snapshot.metadata.index} but no data was staged`,
        );
      this.log.persistReady(rd, batch, { generation: staged.generation });
      this.store = new LedgerStore(db, ledgerPrefix(this.replicaId, staged.generation));
      this.logger.info(
        { shard: this.shard.id, index: rd.snapshot.metadata.index, term: rd.snapshot.metadata.term },
        "snapshot installed",
      );
    } else {
      this.log.persistReady(rd, batch);
    }
    return this.apply(rd.committedEntries, batch);
  }

  private async apply(entries: readonly Entry[], batch: NodeBatch): Promise<AppliedProposal[]> {
    if (entries.length === 0) return [];
    // Every command of every entry, in log order, goes to the store in one call; `slots` says
    // where each one's result belongs. A command refused here gets its error in place and never
    // reaches the store, so it cannot touch another command's outcome.
    const commands: Command[] = [];
    const slots: { outcomes: CommandOutcome[]; position: number }[] = [];
    const proposals: AppliedProposal[] = [];
    for (const entry of entries) {
      // A membership change is not ledger data: the Raft core applies it in advance() and the
      // log records the membership with the applied index (ReplicaLog.setApplied).
      if (entry.type === EntryType.ConfChange) continue;
      const decoded = decodeEntryData(entry.data);
      if (decoded.kind === "noop") continue;
      if (decoded.kind === "invalid") {
        this.logger.error(
          { shard: this.shard.id, index: entry.index, why: decoded.why },
          "skipping an entry that cannot be decoded",
        );
        continue;
      }
      if (decoded.kind === "command") {
        const command = this.decodeCommand(decoded.command, entry.index, -1);
        // An undecodable single command is skipped like an undecodable entry (format 1 as it was).
        if (command instanceof LedgerError) continue;
        const applied: AppliedProposal = { tag: decoded.tag, index: entry.index, batch: false, outcomes: [] };
        proposals.push(applied);
        this.place(command, entry.index, applied.outcomes, 0, commands, slots);
        continue;
      }
      const applied: AppliedProposal = {
        tag: decoded.tag,
        index: entry.index,
        batch: true,
        outcomes: new Array<CommandOutcome>(decoded.commands.length),
      };
      proposals.push(applied);
      for (const [position, bytes] of decoded.commands.entries()) {
        const command = this.decodeCommand(bytes, entry.index, position);
        if (command instanceof LedgerError) applied.outcomes[position] = { error: command };
        else this.place(command, entry.index, applied.outcomes, position, commands, slots);
      }
    }
    const results = commands.length === 0 ? [] : await this.store.applyCommands(commands, batch);
    assert(results.length === slots.length, "the store returned one result per command");
    for (const [i, slot] of slots.entries()) slot.outcomes[slot.position] = { result: results[i]! };
    const last = entries[entries.length - 1];
    if (last !== undefined) this.log.setApplied(last.index, batch);
    return proposals;
  }

  /** Queues `command` for the store, or records why this shard refuses it. */
  private place(
    command: Command,
    index: number,
    outcomes: CommandOutcome[],
    position: number,
    commands: Command[],
    slots: { outcomes: CommandOutcome[]; position: number }[],
  ): void {
    const refusal = this.refusal(command);
    if (refusal !== undefined) {
      // The node refuses these before proposing; one that reaches the log anyway (an older or
      // broken proposer) is skipped the same way on every replica rather than crash them all.
      this.logger.error(
        { shard: this.shard.id, index, position, why: refusal },
        "skipping a command this shard cannot apply",
      );
      outcomes[position] = { error: new LedgerError("INVALID_ARGUMENT", refusal) };
      return;
    }
    commands.push(command);
    slots.push({ outcomes, position });
  }

  /** The command, or (logged) the error its proposer hears when it does not decode. */
  private decodeCommand(bytes: Uint8Array, index: number, position: number): Command | LedgerError {
    try {
      return fromBinary(CommandSchema, bytes);
    } catch (e) {
      this.logger.error(
        { shard: this.shard.id, index, position, err: String(e) },
        "skipping a command that cannot be decoded",
      );
      return new LedgerError("INVALID_ARGUMENT", `command is not a valid ledger.core.v1.Command: ${String(e)}`);
    }
  }

  ownsAccount(accountId: bigint): boolean {
    const key = cachedShardKey(accountId);
    return key >= this.shard.lowerBound && key <= this.shard.upperBound;
  }

  /**
   * Why this command cannot be applied on this shard (naming it `path`), or undefined if it can.
   * Used at apply time, so it refuses only what the core itself cannot apply (coreRefusal: the
   * core asserts on it, so such a command would stop every replica that applies it) and what
   * belongs to another shard; the node checks the public API's rules before proposing.
   */
  refusal(command: Command, path = "command"): string | undefined {
    const core = coreRefusal(command, path);
    if (core !== undefined) return core;
    if (!this.ownsAccount(commandAccountId(command)))
      return `${path}'s account belongs to another shard than ${this.shard.id}`;
    return undefined;
  }
}
