// What an incoming snapshot must agree with before it may replace a replica's state (issue 12,
// finding 1: a forged InstallSnapshot with no pairs emptied a follower, whose empty state then
// won an election and replaced the whole shard's). Each check holds for every snapshot an
// honest leader sends, so none can refuse one; the Raft core checks the metadata again when it
// steps the message (step-follower.ts), these run first so a forgery is refused before a byte
// of it is staged, with an error naming the field.

import { LedgerError } from "../base/errors.js";
import type { LedgerDb } from "../storage/ledger-store.js";
import { prefixRange } from "../storage/ledger-keys.js";
import type { Message } from "../raft/index.js";
import type { ReplicaLog } from "../storage/replica-log.js";

/**
 * The snapshot's metadata against the message and the receiver's log: a leader holds no entry
 * of a term after its own; a snapshot at or below our commit index must match our committed
 * entry there; one past it is of a term no older than our committed entry (terms never
 * decrease along a log). Only committed entries are certain: an uncommitted one at the
 * snapshot's index may rightly differ (a deposed leader's), and the snapshot replaces it.
 */
export function snapshotMetadataRefusal(log: ReplicaLog, message: Message): LedgerError | undefined {
  const snap = message.snapshot;
  if (snap === undefined) return new LedgerError("INVALID_ARGUMENT", "header.message.snapshot must be set");
  const { index, term } = snap.metadata;
  if (term > message.term) {
    return new LedgerError(
      "INVALID_ARGUMENT",
      `header.message.snapshot.metadata.term ${term} is above header.message.term ${message.term}: a leader holds no entry of a later term than its own`,
    );
  }
  const commit = log.hardState().commit;
  const committedTerm = termOf(log, commit);
  if (index <= commit) {
    const ours = termOf(log, index);
    if (ours !== undefined && ours !== term) {
      return new LedgerError(
        "FAILED_PRECONDITION",
        `header.message.snapshot.metadata.term ${term} contradicts this replica's committed entry ${index} of term ${ours}`,
      );
    }
  } else if (committedTerm !== undefined && term < committedTerm) {
    return new LedgerError(
      "FAILED_PRECONDITION",
      `header.message.snapshot.metadata.term ${term} at index ${index} is older than this replica's committed entry ${commit} of term ${committedTerm}`,
    );
  }
  return undefined;
}

/**
 * The staged data against the receiver's live ledger state. Ledger records are never deleted
 * (accounts, transactions and their creation index are only ever put), so a state at a later
 * index holds every key of an earlier one: a snapshot that would replace our state (its index
 * is past our commit index, which is at or past our applied one) must contain our first and
 * our last key. Two point reads plus one iterator step at each end of our range: cheap at any
 * size, and an empty snapshot of a shard that has data fails it. (Comparing pair counts would
 * be as sound but needs a scan of our whole state.)
 */
export async function missingLiveStateRefusal(
  db: LedgerDb,
  live: Uint8Array,
  staged: Uint8Array,
  pairs: number,
  replicaId: number,
): Promise<LedgerError | undefined> {
  const range = prefixRange(live);
  const [first] = await db.keys({ ...range, limit: 1 }).all();
  if (first === undefined) return undefined; // our state is empty: any snapshot holds it
  if (pairs === 0) {
    return new LedgerError(
      "FAILED_PRECONDITION",
      `trailer.pair_count is 0 but replica ${replicaId}'s ledger state is not empty: ledger records are never deleted, so a newer state cannot be empty`,
    );
  }
  const [last] = await db.keys({ ...range, reverse: true, limit: 1 }).all();
  for (const key of last === undefined ? [first] : [first, last]) {
    const relative = key.subarray(live.length);
    const full = new Uint8Array(staged.length + relative.length);
    full.set(staged);
    full.set(relative, staged.length);
    if (db.getSync(full) === undefined) {
      return new LedgerError(
        "FAILED_PRECONDITION",
        `chunk.pairs lack the key ${Buffer.from(relative).toString("hex")} of replica ${replicaId}'s ledger state: ledger records are never deleted, so a newer state holds every key of an older one`,
      );
    }
  }
  return undefined;
}

function termOf(log: ReplicaLog, index: number): number | undefined {
  if (index < log.firstIndex() - 1 || index > log.lastIndex()) return undefined;
  return log.term(index);
}
