// How a proposal ended, as its proposer heard it: the label of ledger_proposals_total. Decided by
// error code and the "applied: no" detail the node puts on refusals, never by message text.

import { isLedgerError } from "../base/errors.js";

export type ProposalOutcome = "applied" | "not_leader" | "refused" | "unknown" | "failed";

export const proposalOutcomes: readonly ProposalOutcome[] = ["applied", "not_leader", "refused", "unknown", "failed"];

export const proposalOutcomesHelp =
  "applied; not_leader and refused (certainly not applied: not the leader, no leader, busy, shutting down); unknown (deadline passed, leader stepped down or node stopped after proposing: may still apply); failed (any other error)";

/** The outcome of a proposal that failed with `error`. */
export function proposalOutcome(error: unknown): Exclude<ProposalOutcome, "applied"> {
  if (!isLedgerError(error)) return "failed";
  if (error.code === "NOT_LEADER") return "not_leader";
  if (error.details.applied === "no") return "refused";
  if (error.code === "UNAVAILABLE" || error.code === "DEADLINE_EXCEEDED") return "unknown";
  return "failed";
}
