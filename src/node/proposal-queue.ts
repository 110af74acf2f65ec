// The node's proposals, from admission to answer: the bounds a proposal passes before it is
// queued, the queue the next loop turn proposes from, the waiters of proposals in the log, and
// their answers once applied. The loop turn calls it at fixed points (proposeAll, answer, expire);
// nothing here schedules work on its own but through `wake`.

import { assert } from "../base/assert.js";
import type { LedgerError } from "../base/errors.js";
import { nodePendingProposalsMax, proposalEntryBytesMax } from "./limits.js";
import type { NodeId } from "../cluster/config.js";
import type { ReplicaId } from "../raft/index.js";
import type { Clock } from "../base/clock.js";
import type { NodeObserver } from "./node-observer.js";
import type { ProposalTag } from "./proposal-envelope.js";
import { refusedProposal } from "./proposal-errors.js";
import type { AppliedProposal, Replica } from "./replica.js";
import { notApplied, ProposalWaiters, type AppliedEntry } from "./waiters.js";

interface QueuedProposal {
  replica: Replica;
  number: number;
  data: Uint8Array;
  deadlineMs: number;
  resolve(applied: AppliedEntry): void;
  reject(error: LedgerError): void;
}

export class ProposalQueue {
  /** Tags this process's proposals: an entry of another epoch (an earlier run) has no waiter here. */
  readonly epoch: number;
  private nextNumber = 1;
  private queued: QueuedProposal[] = [];
  private readonly waiters = new ProposalWaiters();
  /** Commands queued or proposed and not yet answered (a batch counts each of its commands). */
  private commandsInFlight = 0;
  private closedWith: (() => LedgerError) | undefined;

  constructor(
    private readonly nodeId: NodeId,
    private readonly observer: NodeObserver,
    clock: Clock,
    /** Asks for a loop turn (a proposal was queued). */
    private readonly wake: () => void,
  ) {
    this.epoch = clock.randomInt(1, 2 ** 32 - 1);
  }

  /** Proposals waiting for the next turn, and proposals in the log awaiting their answer. */
  get queuedCount(): number {
    return this.queued.length;
  }

  get waitingCount(): number {
    return this.waiters.size;
  }

  /**
   * The bounds every proposal passes before it is queued (all refusals are applied=no), then the
   * queue. nodePendingProposalsMax counts commands, not entries: memory, apply work and the
   * callers waiting all grow with commands, and counting a 1,000-command batch as one would let
   * the node hold a thousand times the bound.
   */
  admit(
    replica: Replica,
    commands: number,
    bytes: number,
    encode: (tag: ProposalTag) => Uint8Array,
    deadlineMs: number,
  ): Promise<AppliedEntry> {
    try {
      if (this.closedWith !== undefined) throw this.closedWith();
      if (bytes > proposalEntryBytesMax) {
        throw notApplied(
          "INVALID_ARGUMENT",
          `the proposal's log entry would be ${bytes} bytes; at most ${proposalEntryBytesMax} (proposalEntryBytesMax) are allowed: send fewer commands per batch`,
        );
      }
      if (commands > nodePendingProposalsMax) {
        throw notApplied(
          "INVALID_ARGUMENT",
          `a batch of ${commands} commands exceeds nodePendingProposalsMax (${nodePendingProposalsMax}): send fewer commands per batch`,
        );
      }
      if (this.commandsInFlight + commands > nodePendingProposalsMax) {
        throw notApplied(
          "RESOURCE_EXHAUSTED",
          `node ${this.nodeId} has ${this.commandsInFlight} proposed commands in flight, at most ${nodePendingProposalsMax} (nodePendingProposalsMax); not applied, retry later`,
        );
      }
    } catch (e) {
      this.observer.proposalFailed(e);
      return Promise.reject(e);
    }
    const number = this.nextNumber++;
    const data = encode({ epoch: this.epoch, number });
    assert(data.length === bytes, "the entry has the size it was checked at");
    this.commandsInFlight += commands;
    const answered = new Promise<AppliedEntry>((resolve, reject) => {
      this.queued.push({ replica, number, data, deadlineMs, resolve, reject });
      this.wake();
    });
    // Every way a proposal ends (applied, refused, expired, stepped down, shut down) settles this.
    answered.then(
      () => {
        this.commandsInFlight -= commands;
        this.observer.proposalApplied();
      },
      (e: unknown) => {
        this.commandsInFlight -= commands;
        this.observer.proposalFailed(e);
      },
    );
    return answered;
  }

  /** In the loop turn: hands every queued proposal to its replica's Raft (or refuses it). */
  proposeAll(nodeOfReplica: ReadonlyMap<ReplicaId, NodeId>): void {
    const queued = this.queued;
    this.queued = [];
    for (const p of queued) {
      try {
        p.replica.raw.propose(p.data);
        this.waiters.add(p.number, {
          shardId: p.replica.shard.id,
          deadlineMs: p.deadlineMs,
          resolve: p.resolve,
          reject: p.reject,
        });
      } catch (e) {
        p.reject(refusedProposal(this.nodeId, p.replica, nodeOfReplica.get(p.replica.leader), e));
      }
    }
  }

  /** In the loop turn, after the write: answers this process's proposals among `applied`. */
  answer(applied: readonly AppliedProposal[]): void {
    for (const a of applied) {
      if (a.tag.epoch !== this.epoch) continue;
      const waiter = this.waiters.take(a.tag.number);
      if (waiter === undefined) continue;
      // A single proposal's refusal is its call's error; a batch carries each command's own.
      const only = a.outcomes[0];
      if (!a.batch && only?.error !== undefined) waiter.reject(only.error);
      else waiter.resolve({ outcomes: a.outcomes, index: a.index });
    }
  }

  /** Proposals past their deadline are answered (outcome unknown: they are in the log). */
  expire(nowMs: number): void {
    this.waiters.expire(nowMs);
  }

  /** The replica of `shardId` stopped leading: its proposals' outcome is unknown. */
  failShard(shardId: string, why: string): void {
    this.waiters.failShard(shardId, why);
  }

  /** Stops admitting (with `refusal`), fails the waiters with `unknown`, refuses the queued. */
  close(refusal: () => LedgerError, unknown: LedgerError): void {
    this.closedWith = refusal;
    this.waiters.failAll(unknown);
    for (const p of this.queued) p.reject(refusal());
    this.queued = [];
  }
}
