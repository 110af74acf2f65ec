// The seam between the public service (validation, ids, clock, API mapping) and whatever
// applies commands: the in-process engine of the standalone server today, the Raft cluster
// client tomorrow. The service code is written once against this interface.

import type { LedgerError } from "../base/errors.js";
import type { Command, CommandResult, Query, QueryResult } from "../gen/ledger/core/v1/core_pb.js";

export interface CallOptions {
  /** Absolute deadline (Date.now() milliseconds); the backend gives up after it. */
  deadlineMs?: number;
  /** Serve from any replica's state without a linearizability check (cluster only). */
  stale?: boolean;
}

export interface UpdateItem {
  accountId: bigint;
  command: Command;
}

export interface LedgerBackend {
  /**
   * Applies one command on the shard that owns `accountId`; resolves once the change is durable
   * with the core's result. Rejects with LedgerError for operational failures only
   * (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, ...).
   */
  update(accountId: bigint, command: Command, options?: CallOptions): Promise<CommandResult>;
  /**
   * Applies many commands, each on the shard that owns its account, each independently: one
   * outcome per item in the items' order, the core's result or the LedgerError that item failed
   * with (what `update` would have rejected with). Items of one account are applied in the
   * order given. Only create commands are allowed (a batch's retries resend it whole, which a
   * create's ids make safe; the public API batches creates only).
   * Never rejects for one item's failure.
   */
  updateMany(items: readonly UpdateItem[], options?: CallOptions): Promise<(CommandResult | LedgerError)[]>;
  /** Reads from the shard that owns `accountId`. */
  query(accountId: bigint, query: Query, options?: CallOptions): Promise<QueryResult>;
  close(): Promise<void>;
}
