// Callers waiting on the node loop: proposers waiting for their entry to be applied and readers
// waiting for a read point. Each has an absolute deadline; the loop sweeps expired ones once per
// tick (cheaper than a timer per request). Every waiter is settled exactly once.

import { LedgerError } from "../base/errors.js";
import type { CommandResult } from "../gen/ledger/core/v1/core_pb.js";
import type { QueryResult } from "../gen/ledger/core/v1/core_pb.js";
import type { Query } from "../gen/ledger/core/v1/core_pb.js";

/** One entry's commands applied: one outcome per command (a single proposal has one). */
/** One command's outcome at apply: the core's result, or the refusal this shard applied it with. */
export type CommandOutcome = { result: CommandResult; error?: undefined } | { result?: undefined; error: LedgerError };

export interface AppliedEntry {
  outcomes: readonly CommandOutcome[];
  index: number;
}

export interface ProposalWaiter {
  shardId: string;
  deadlineMs: number;
  resolve(applied: AppliedEntry): void;
  reject(error: LedgerError): void;
}

export interface ReadWaiter {
  shardId: string;
  query: Query;
  deadlineMs: number;
  /** Absolute time after which an unconfirmed read is given up (ReadIndex dropped). */
  confirmByMs: number;
  settled: boolean;
  resolve(answer: { result: QueryResult; appliedIndex: number }): void;
  reject(error: LedgerError): void;
}

/** A refusal that certainly appended nothing: callers may retry anywhere without doubt. */
export function notApplied(
  code: LedgerError["code"],
  message: string,
  details: Record<string, string> = {},
): LedgerError {
  return new LedgerError(code, message, { ...details, applied: "no" });
}

export function outcomeUnknown(shardId: string, why: string): LedgerError {
  return new LedgerError(
    "UNAVAILABLE",
    `${shardId}: ${why}; the outcome is unknown: the command may still be applied. Retrying with the same request_id is safe`,
  );
}

/** Proposals this node made and is waiting to see applied, keyed by proposal number. */
export class ProposalWaiters {
  private readonly waiting = new Map<number, ProposalWaiter>();

  get size(): number {
    return this.waiting.size;
  }

  add(number: number, waiter: ProposalWaiter): void {
    this.waiting.set(number, waiter);
  }

  take(number: number): ProposalWaiter | undefined {
    const w = this.waiting.get(number);
    if (w !== undefined) this.waiting.delete(number);
    return w;
  }

  /** Fails the waiters whose deadline has passed: their entry may still commit later. */
  expire(nowMs: number): void {
    for (const [n, w] of this.waiting) {
      if (w.deadlineMs > nowMs) continue;
      this.waiting.delete(n);
      w.reject(
        new LedgerError(
          "DEADLINE_EXCEEDED",
          `${w.shardId}: not applied before the deadline; the outcome is unknown. Retrying with the same request_id is safe`,
        ),
      );
    }
  }

  /** Fails every waiter of a shard whose replica stopped leading: their entries may be lost or commit later. */
  failShard(shardId: string, why: string): void {
    for (const [n, w] of this.waiting) {
      if (w.shardId !== shardId) continue;
      this.waiting.delete(n);
      w.reject(outcomeUnknown(shardId, why));
    }
  }

  failAll(error: LedgerError): void {
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
  }
}
