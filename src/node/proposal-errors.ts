// What a proposer hears when Raft refuses its proposal. None of these was appended, so each
// carries details.applied = "no": the caller may retry anywhere without risk of a double apply.

import { LedgerError } from "../base/errors.js";
import type { NodeId } from "../cluster/config.js";
import { RaftError } from "../raft/index.js";
import type { Replica } from "./replica.js";
import { notApplied } from "./waiters.js";

/** Rethrows anything that is not a RaftError (a bug, not a refusal). */
export function refusedProposal(
  nodeId: NodeId,
  replica: Replica,
  leaderNode: NodeId | undefined,
  e: unknown,
): LedgerError {
  if (!(e instanceof RaftError)) throw e;
  const shard = replica.shard.id;
  switch (e.code) {
    case "NOT_LEADER":
      return notApplied(
        "NOT_LEADER",
        `${shard}: node ${nodeId} is not the leader${leaderNode ? `; the leader is ${leaderNode}` : ""}`,
        leaderNode ? { leader: leaderNode } : {},
      );
    case "PROPOSAL_DROPPED":
      return notApplied(
        "UNAVAILABLE",
        `${shard}: no leader known on node ${nodeId} (election in progress or no quorum); not applied, retry`,
      );
    case "TRANSFER_IN_PROGRESS":
      return notApplied("UNAVAILABLE", `${shard}: leadership is being transferred; not applied, retry`);
    case "CONF_CHANGE_REFUSED":
      return notApplied("FAILED_PRECONDITION", `${shard}: ${e.message}; not applied`);
    case "UNCOMMITTED_LIMIT":
      return notApplied("RESOURCE_EXHAUSTED", `${shard}: too many uncommitted proposals; not applied, retry later`);
    default:
      return new LedgerError("INTERNAL", `${shard}: ${e.message}`);
  }
}
