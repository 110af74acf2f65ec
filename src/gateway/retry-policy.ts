// How the cluster gateway reacts to a failed node call: which failures are worth another
// attempt, where that attempt goes, how long to wait first, and whether the failed attempt may
// have changed the ledger. Pure decisions; the loop that acts on them is in cluster-backend.ts.

import type { LedgerError } from "../base/errors.js";

import {
  gatewayDeadlineDefaultMs,
  gatewayLeaderHintFollowsMax,
  gatewayBackoffBaseMs,
  gatewayBackoffCapMs,
  gatewayReconnectBackoffMaxMs,
  gatewayReconnectBackoffInitialMs,
} from "./limits.js";
export {
  gatewayDeadlineDefaultMs,
  gatewayLeaderHintFollowsMax,
  gatewayBackoffBaseMs,
  gatewayBackoffCapMs,
  gatewayReconnectBackoffMaxMs,
  gatewayReconnectBackoffInitialMs,
};

export interface BackoffTunables {
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Uniform in [0, 1); Math.random in production, fixed in tests. */
  random: () => number;
}

/**
 * Capped exponential backoff with "equal jitter": half the step is fixed so retries never spin,
 * the other half is random so gateways that failed together do not retry together.
 */
export function backoffDelayMs(retry: number, t: BackoffTunables): number {
  const step = Math.min(t.backoffCapMs, t.backoffBaseMs * 2 ** Math.min(retry, 30));
  return step / 2 + t.random() * (step / 2);
}

/** What the next attempt of a call does after `error`. */
export type RetryAction =
  /** The node is not the leader; `leader` names the node it believes is (when it knows). */
  | { kind: "notLeader"; leader: string | undefined }
  /** The node cannot serve now (down, no quorum, catching up, timed out): try another replica. */
  | { kind: "elsewhere" }
  /** The leader is overloaded: pause, then ask it again. */
  | { kind: "sameAfterPause" }
  /** A definite answer that another attempt cannot change (bad input, internal error). */
  | { kind: "fail" };

export function retryActionFor(error: LedgerError): RetryAction {
  switch (error.code) {
    case "NOT_LEADER":
      return { kind: "notLeader", leader: error.details.leader || undefined };
    case "UNAVAILABLE":
    case "DEADLINE_EXCEEDED":
    case "CANCELLED":
    case "ABORTED":
      return { kind: "elsewhere" };
    case "RESOURCE_EXHAUSTED":
      return { kind: "sameAfterPause" };
    default:
      return { kind: "fail" };
  }
}

/**
 * Whether a failed Propose may nevertheless have been appended, and so may yet be applied.
 * NOT_LEADER and RESOURCE_EXHAUSTED are refusals a node gives before it appends (the node's
 * contract: a leader that loses leadership after appending answers UNAVAILABLE, not NOT_LEADER).
 * A call grpc-js never sent is safe too; every other UNAVAILABLE, DEADLINE_EXCEEDED or
 * CANCELLED may have reached the node.
 */
export function proposalMayHaveApplied(error: LedgerError): boolean {
  const action = retryActionFor(error);
  if (action.kind !== "elsewhere") return false;
  return !neverSent(error);
}

/**
 * A node's own definite refusal carries details.applied = "no". grpc-js fails a call it could
 * not send, because the channel has no connection (refused, unreachable), with UNAVAILABLE and
 * "No connection established", or, when the deadline comes first, with DEADLINE_EXCEEDED and
 * "Waiting for LB pick"; it exposes no structured flag for either. Anything else we cannot prove unsent, so a
 * wording change only makes us more careful, never less.
 */
function neverSent(error: LedgerError): boolean {
  // The node marks every refusal that certainly appended nothing (src/node: notApplied).
  if (error.details.applied === "no") return true;
  if (error.code === "UNAVAILABLE" && error.message.startsWith("No connection established")) return true;
  // The deadline passed while grpc-js was still waiting for a connection to send on.
  return error.code === "DEADLINE_EXCEEDED" && error.message.includes("Waiting for LB pick");
}
