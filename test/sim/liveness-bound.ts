// The liveness bound: how many steps (one tick each) may pass between the heal (no cuts, no
// loss, no slow messages, every replica up, no more faults) and a fresh proposal applied on
// every replica. Each term is a worst case for one phase, so the sum is the bound:
//
//  - lease:     followers that heard from a leader within electionTicks ignore votes
//               (CheckQuorum), and a leader cut off from its quorum needs up to electionTicks
//               to notice and step down: electionTicks.
//  - elections: a follower's randomized timeout fires within 2 * electionTicks; PreVote and
//               Vote then take a round trip each. A round fails only on a split vote or when the
//               candidate's log is behind; each further round costs the same again. Rounds are
//               independent coin flips (random timeouts in [E, 2E)), so we allow
//               electionRoundsMax of them: the chance of that many failures in a row is far
//               below one in the 10^5 runs of a long campaign (measured: see the report).
//  - catch-up:  a lagging follower is probed (one round trip per conflicting term, fast
//               backtracking, or one snapshot), then fed maxInflightAppends messages of
//               maxAppendBytes per round trip, so the lag in entries sets the time.
//  - commit:    the marker is appended, acknowledged by a quorum and its commit index reaches
//               every follower with the next append or heartbeat: two round trips and a
//               heartbeat interval.

import type { RaftTuning } from "./replica.js";

/** Election rounds allowed after the heal; see above. */
export const electionRoundsMax = 12;
/** Bytes of one client payload (payload.ts encodes ids in 4 bytes). */
const payloadBytes = 4;
/** Conflicting-term probes allowed for one follower (terms are few after a bounded chaos phase). */
const probeRoundTripsMax = 16;

export function settleStepsBound(lagEntries: number, t: RaftTuning, delayStepsMax: number): number {
  const roundTrip = 2 * delayStepsMax;
  const lease = t.electionTicks;
  const elections = electionRoundsMax * (2 * t.electionTicks + 2 * roundTrip);
  const entriesPerRoundTrip = t.maxInflightAppends * Math.max(1, Math.floor(t.maxAppendBytes / payloadBytes));
  const catchUp = (probeRoundTripsMax + Math.ceil(lagEntries / entriesPerRoundTrip)) * roundTrip;
  const commit = 2 * roundTrip + t.heartbeatTicks;
  return lease + elections + catchUp + commit;
}
