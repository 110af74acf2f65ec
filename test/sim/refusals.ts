// Answers a correct core may give a proposal or a read it cannot take now; the client treats
// them as refusals and tries again later. Any other error from the core is a bug.

import type { RaftErrorCode } from "../../src/raft/types.js";

export const refusalCodes: readonly RaftErrorCode[] = [
  "NOT_LEADER",
  "TRANSFER_IN_PROGRESS",
  "UNCOMMITTED_LIMIT",
  "PROPOSAL_DROPPED",
];
