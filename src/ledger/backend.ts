// The seam between the public service (validation, ids, clock, API mapping) and whatever
// applies commands: the in-process engine of the standalone server today, the Raft cluster
// client tomorrow. The service code is written once against this interface.

import type { Command, CommandResult, Query, QueryResult } from "../gen/ledger/core/v1/core_pb.js";

export interface CallOptions {
  /** Absolute deadline (Date.now() milliseconds); the backend gives up after it. */
  deadlineMs?: number;
  /** Serve from any replica's state without a linearizability check (cluster only). */
  stale?: boolean;
}

export interface LedgerBackend {
  /**
   * Applies one command on the shard that owns `accountId`; resolves once the change is durable
   * with the core's result. Rejects with LedgerError for operational failures only
   * (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, ...).
   */
  update(accountId: bigint, command: Command, options?: CallOptions): Promise<CommandResult>;
  /** Reads from the shard that owns `accountId`. */
  query(accountId: bigint, query: Query, options?: CallOptions): Promise<QueryResult>;
  close(): Promise<void>;
}
