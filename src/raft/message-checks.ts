// What a peer's message must satisfy on its own, before any of it is believed (its term
// included): properties every honest replica's message has by construction, so a message
// without them is broken or forged and is refused whole. Checks that need the receiver's state
// (an acknowledgement past the leader's log, a snapshot older than our commit) are made where
// that state is, in the step handlers.

import { MessageType } from "./types.js";
import type { Message, ReplicaId } from "./types.js";

/** Why `m`, received by replica `self`, cannot come from an honest peer; undefined if it can. */
export function messageInconsistency(m: Message, self: ReplicaId): string | undefined {
  // Replies go to m.from: a message "from" ourselves would make us send to ourselves.
  if (m.from === self) return "it claims to come from this replica";
  if (m.from === 0) return "it names no sender";
  if (m.term === 0 && m.type !== MessageType.ReadIndex && m.type !== MessageType.TransferLeader) {
    // Only requests forwarded between replicas travel without a term.
    return "it carries no term";
  }
  switch (m.type) {
    case MessageType.Vote:
    case MessageType.PreVote:
      // A candidate's last entry is of its term or older (a pre-candidate asks for term + 1).
      return m.logTerm > m.term ? `its log term ${m.logTerm} is above its term ${m.term}` : undefined;
    case MessageType.Append:
      return appendInconsistency(m);
    case MessageType.Snapshot: {
      const snap = m.snapshot;
      if (snap === undefined) return "it carries no snapshot";
      // A leader has only committed entries of its own term or older.
      if (snap.metadata.term > m.term) return `its snapshot's term ${snap.metadata.term} is above its term ${m.term}`;
      return undefined;
    }
    case MessageType.AppendResponse:
      // A follower's hint is an index of its log at or before the index it rejected.
      return m.reject && m.rejectHint > m.index
        ? `its reject hint ${m.rejectHint} is past the rejected index ${m.index}`
        : undefined;
    default:
      return undefined;
  }
}

/**
 * A leader's log has non-decreasing terms, none above its own; an append carries one contiguous
 * run of it right after (index, logTerm). Anything else would break our log's invariants.
 */
function appendInconsistency(m: Message): string | undefined {
  if (m.logTerm > m.term) return `its log term ${m.logTerm} is above its term ${m.term}`;
  let prevTerm = m.logTerm;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i]!;
    if (e.index !== m.index + 1 + i) return `entry ${i} has index ${e.index}, expected ${m.index + 1 + i}`;
    if (e.term < prevTerm || e.term > m.term)
      return `entry ${e.index} has term ${e.term}, outside [${prevTerm}, ${m.term}]`;
    prevTerm = e.term;
  }
  return undefined;
}
