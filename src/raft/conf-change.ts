// Membership changes, one server at a time (Raft thesis §4.1), with learners. A change is the
// data of an EntryType.ConfChange entry. It takes effect on each replica when that replica
// applies the entry (as in etcd), so every replica moves through the same sequence of
// configurations at the same log positions, and a restarted replica finds its configuration
// with its applied index. Two rules make single-server changes safe when they take effect at
// apply time:
//  - a leader proposes a change only when every earlier change is applied and it has committed
//    an entry of its own term (Ongaro, raft-dev 2015: without the latter, a change proposed by
//    a new leader can commit with a majority that does not overlap one of a change a deposed
//    leader had already committed);
//  - a replica does not campaign while a committed change is not yet applied, so a candidate
//    counts votes in a configuration that includes every committed change.
// Any two consecutive configurations then differ by one voter, and their majorities overlap.
//
// Encoding (10 bytes): [version 1] [type 1] [replica id, uint64 big-endian].

import type { ConfState, ReplicaId } from "./types.js";

export enum ConfChangeType {
  /** A voter; an existing learner is promoted. */
  AddVoter = 1,
  /** A non-voting member that receives the log and snapshots; an existing voter is demoted. */
  AddLearner = 2,
  /** Leaves the group (voter or learner). */
  Remove = 3,
}

export interface ConfChange {
  type: ConfChangeType;
  replicaId: ReplicaId;
}

const version = 1;
const encodedBytes = 10;

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out = new Uint8Array(encodedBytes);
  const view = new DataView(out.buffer);
  out[0] = version;
  out[1] = cc.type;
  view.setBigUint64(2, BigInt(cc.replicaId), false);
  return out;
}

/** The change in `data`, or a reason it is not one (never throws: the data came off a log). */
export function decodeConfChange(data: Uint8Array): ConfChange | string {
  if (data.byteLength !== encodedBytes) return `a conf change is ${encodedBytes} bytes, not ${data.byteLength}`;
  if (data[0] !== version) return `unknown conf change version ${data[0]}`;
  const type = data[1] as number;
  if (type !== ConfChangeType.AddVoter && type !== ConfChangeType.AddLearner && type !== ConfChangeType.Remove)
    return `unknown conf change type ${type}`;
  const id = new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(2, false);
  if (id === 0n || id > BigInt(Number.MAX_SAFE_INTEGER)) return `conf change replica id ${id} is out of range`;
  return { type, replicaId: Number(id) };
}

/**
 * Why `cc` may not be applied to `cs`, or undefined. A change that would change nothing is
 * refused too: the caller asked for something that is already so (an operation layer treats
 * that as done), and a no-op entry would only hold up the next change.
 */
export function confChangeRefusal(cs: ConfState, cc: ConfChange): string | undefined {
  const voter = cs.voters.includes(cc.replicaId);
  const learner = cs.learners.includes(cc.replicaId);
  switch (cc.type) {
    case ConfChangeType.AddVoter:
      return voter ? `${cc.replicaId} is already a voter` : undefined;
    case ConfChangeType.AddLearner:
      if (learner) return `${cc.replicaId} is already a learner`;
      if (voter && cs.voters.length === 1) return `${cc.replicaId} is the only voter`;
      return undefined;
    case ConfChangeType.Remove:
      if (!voter && !learner) return `${cc.replicaId} is not a member`;
      if (voter && cs.voters.length === 1) return `${cc.replicaId} is the only voter`;
      return undefined;
  }
}

/** `cs` after `cc`, sorted; `cs` itself when the change is refused (see confChangeRefusal). */
export function applyConfChangeTo(cs: ConfState, cc: ConfChange): ConfState {
  if (confChangeRefusal(cs, cc) !== undefined) return { voters: cs.voters.slice(), learners: cs.learners.slice() };
  const voters = cs.voters.filter((id) => id !== cc.replicaId);
  const learners = cs.learners.filter((id) => id !== cc.replicaId);
  if (cc.type === ConfChangeType.AddVoter) voters.push(cc.replicaId);
  if (cc.type === ConfChangeType.AddLearner) learners.push(cc.replicaId);
  const byId = (a: number, b: number): number => a - b;
  return { voters: voters.sort(byId), learners: learners.sort(byId) };
}

export function describeConfChange(cc: ConfChange): string {
  return `${ConfChangeType[cc.type]} ${cc.replicaId}`;
}
