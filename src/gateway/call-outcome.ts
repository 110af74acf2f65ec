// The errors a cluster call ends with when its deadline passes without a definite answer. An
// update that may have reached a replica has an unknown outcome: the message says so, and says
// whether and how the caller can retry it safely, because that is what the caller must decide.

import { LedgerError } from "../base/errors.js";
import type { ShardId } from "../cluster/config.js";
import type { Command, Query } from "../gen/ledger/core/v1/core_pb.js";
import { formatAccountId, formatTransactionId } from "../ledger/ids.js";

/** What the attempts of one call saw, for its final error. */
export interface AttemptLog {
  attempts: number;
  lastError: LedgerError | undefined;
  /** Some update attempt may have been appended (see proposalMayHaveApplied). */
  mayHaveApplied: boolean;
}

/** "CreateTransaction for account 0123456789abcdef", as the public API names the call. */
export function describeCommand(command: Command): string {
  const { kind } = command;
  switch (kind.case) {
    case "createAccount":
      return `CreateAccount of account ${formatAccountId(kind.value.accountId)}`;
    case "createTransaction":
      return `CreateTransaction of transaction ${formatTransactionId(kind.value)}`;
    case "settleTransaction":
      return `SettleTransaction of transaction ${formatTransactionId(kind.value)}`;
    case "cancelTransaction":
      return `CancelTransaction of transaction ${formatTransactionId(kind.value)}`;
    default:
      return "an empty command";
  }
}

export function describeQuery(query: Query): string {
  const { kind } = query;
  switch (kind.case) {
    case "getAccount":
      return `GetAccount of account ${formatAccountId(kind.value.accountId)}`;
    case "getTransaction":
      return `GetTransaction of transaction ${formatTransactionId(kind.value)}`;
    case "listTransactions":
      return `ListTransactions of account ${formatAccountId(kind.value.accountId)}`;
    default:
      return "an empty query";
  }
}

/** The client request id a create command carries ("" when none, and for settle/cancel). */
export function requestIdOf(command: Command): string {
  const { kind } = command;
  return kind.case === "createAccount" || kind.case === "createTransaction" ? kind.value.requestId : "";
}

function lastErrorText(log: AttemptLog): string {
  const last = log.lastError ? `; last error: ${log.lastError.code}: ${log.lastError.message}` : "";
  return `${log.attempts} attempt${log.attempts === 1 ? "" : "s"}${last}`;
}

/** Whether and how the caller may retry an update whose outcome is unknown. */
function retryAdvice(command: Command): string {
  const { kind } = command;
  if (kind.case === "settleTransaction" || kind.case === "cancelTransaction") {
    return "retrying is safe: it applies at most once; if the retry fails with FAILED_PRECONDITION, read the transaction (GetTransaction) to see whether it is in the state you asked for";
  }
  const requestId = requestIdOf(command);
  if (requestId !== "") return `retrying with the same request_id "${requestId}" is safe: it is applied at most once`;
  return "the call carried no request_id, so a retry may apply it twice: check first, and send a request_id to make retries safe";
}

/** The error of an update whose deadline passed with no definite answer. */
export function updateDeadlineError(command: Command, shardId: ShardId, log: AttemptLog): LedgerError {
  const what = describeCommand(command);
  if (log.attempts === 0) {
    return new LedgerError(
      "DEADLINE_EXCEEDED",
      `${what}: the deadline passed before it was sent to ${shardId}; it was not applied`,
    );
  }
  if (log.mayHaveApplied) {
    return new LedgerError(
      "DEADLINE_EXCEEDED",
      `outcome unknown: ${what} may or may not have been applied: ${shardId} gave no definite answer before the deadline (${lastErrorText(log)}); ${retryAdvice(command)}`,
    );
  }
  const code = log.lastError?.code === "RESOURCE_EXHAUSTED" ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE";
  return new LedgerError(
    code,
    `${what} was not applied: no replica of ${shardId} could take it before the deadline (${lastErrorText(log)})`,
  );
}

/**
 * The error of an update that met a definite error (bad input, internal error) after an earlier
 * attempt that may have been appended: the outcome is still unknown, whatever the last node said.
 */
export function updateUnknownOutcomeError(command: Command, shardId: ShardId, log: AttemptLog): LedgerError {
  return new LedgerError(
    "UNAVAILABLE",
    `outcome unknown: ${describeCommand(command)} may or may not have been applied: an earlier attempt reached ${shardId} without a definite answer (${lastErrorText(log)}); ${retryAdvice(command)}`,
  );
}

/**
 * The error of an update whose outcome the gateway cannot tell for a reason of its own or the
 * node's making (`fault`): an answer it cannot read (the entry was applied, but did the command
 * take effect?), or an internal error while the call was out. INTERNAL: a bug somewhere, not a
 * passing condition; the message still tells the caller how to learn the outcome safely.
 */
export function updateFaultError(command: Command, shardId: ShardId, fault: string): LedgerError {
  return new LedgerError(
    "INTERNAL",
    `outcome unknown: ${describeCommand(command)} on ${shardId}: ${fault}; ${retryAdvice(command)}`,
  );
}

/** The error of a query whose deadline passed with no answer. */
export function queryDeadlineError(query: Query, shardId: ShardId, log: AttemptLog): LedgerError {
  const what = describeQuery(query);
  if (log.attempts === 0 || log.lastError?.code === "DEADLINE_EXCEEDED") {
    return new LedgerError("DEADLINE_EXCEEDED", `${what} on ${shardId} timed out (${lastErrorText(log)})`);
  }
  return new LedgerError(
    "UNAVAILABLE",
    `${what} failed: no replica of ${shardId} could serve it before the deadline (${lastErrorText(log)})`,
  );
}
