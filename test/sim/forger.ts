// Forged peer messages (issue 12): now and then a message no honest replica sends is stepped
// straight into a live replica: a term above maxTerm or a million beyond its own, an
// acknowledgement past a leader's last index, entries out of order, a snapshot of a later term
// than its message, a vote request whose log is newer than its term, a message "from" the
// replica itself, a second leader of a term whose leader the replica knows. Each must be refused
// outright: the replica's refusal count grows by one, or
// the run fails ("peer-input"); and the safety checkers watch that nothing else changed. Kinds
// a replica cannot tell from honest traffic (a plausible term, an ack inside the log) are not
// forged: Raft trusts its peers, and those would break safety by design.
//
// The forger draws from its own PRNG, so adding it changed no seed's history of the honest run.

import { type Prng, seededPrng } from "../../src/base/prng.js";
import { describeMessage } from "../../src/raft/describe.js";
import { newMessage } from "../../src/raft/messages.js";
import { EntryType, type Message, MessageType, type RefusedCounts, type Status } from "../../src/raft/types.js";
import type { SimReplica } from "./replica.js";
import { SafetyViolation } from "./violation.js";

const kinds = 8;
/** Per step: chance of one forged message. */
const forgeChances = [0, 0.002, 0.01] as const;

export class Forger {
  private readonly random: Prng;
  private readonly chance: number;
  forged = 0;

  constructor(seed: number) {
    this.random = seededPrng(seed ^ 0x5f0f_9e12);
    this.chance = forgeChances[this.random.intBelow(forgeChances.length)]!;
  }

  /** An index below `n` (0 when n is 0), from the forger's own PRNG. */
  pick(n: number): number {
    return n === 0 ? 0 : this.random.intBelow(n);
  }

  /** Maybe forges one message into `r` (live: up and not paused); returns its kind or -1. */
  maybeForge(r: SimReplica, peers: number): number {
    if (this.chance === 0 || this.random.float() >= this.chance) return -1;
    const node = r.node!;
    const st = node.status();
    const kind = this.random.intBelow(kinds);
    const cs = node.confState();
    const m = this.message(kind, r.id, st, peers, [...cs.voters, ...cs.learners]);
    const before = total(st.refused);
    node.step(m);
    if (total(node.status().refused) !== before + 1) {
      throw new SafetyViolation("peer-input", `replica ${r.id} did not refuse the forged ${describeMessage(m)}`);
    }
    this.forged++;
    return kind;
  }

  private message(kind: number, self: number, st: Status, peers: number, members: readonly number[]): Message {
    const term = st.hardState.term;
    // Claims to come from a member of the replica's group: a message from a replica outside it
    // (one removed by a membership change) may be an honest late one, and is ignored, not refused.
    const others = members.filter((id) => id !== self);
    const from =
      others.length > 0
        ? others[this.random.intBelow(others.length)]!
        : 1 + ((self + this.random.intBelow(peers - 1)) % peers);
    const last = st.lastIndex;
    switch (kind) {
      case 0:
        return newMessage(MessageType.Heartbeat, from, self, Number.MAX_SAFE_INTEGER);
      case 1: {
        const types = [MessageType.Heartbeat, MessageType.Append, MessageType.Vote, MessageType.AppendResponse];
        return newMessage(
          types[this.random.intBelow(types.length)]!,
          from,
          self,
          term + 1_000_000 + this.random.intBelow(1_000),
        );
      }
      case 2: {
        // To a leader: past its log. To anyone else: a rejection whose hint is past the index.
        const m = newMessage(MessageType.AppendResponse, from, self, Math.max(term, 1));
        if (st.softState.role === "leader") m.index = last + 1 + this.random.intBelow(1_000);
        else {
          m.reject = true;
          m.index = last;
          m.rejectHint = last + 1;
        }
        return m;
      }
      case 3: {
        const m = newMessage(MessageType.Append, from, self, Math.max(term, 1));
        m.index = last;
        m.logTerm = 0;
        m.entries = [entry(m.term, last + 1), entry(m.term, last + 3)];
        return m;
      }
      case 4: {
        const m = newMessage(MessageType.Snapshot, from, self, Math.max(term, 1));
        m.snapshot = {
          metadata: { index: last + 10, term: m.term + 1, confState: { voters: [], learners: [] } },
          data: new Uint8Array(0),
        };
        return m;
      }
      case 5: {
        const m = newMessage(MessageType.Vote, from, self, term + 1);
        m.logTerm = term + 2;
        m.index = last;
        return m;
      }
      case 6: {
        // A follower that knows its leader: a heartbeat of the same term from someone else.
        const leader = st.softState.leader;
        const other = [1, 2, 3].find((id) => id !== self && id !== leader) ?? from;
        if (st.softState.role === "follower" && leader !== 0 && leader !== self)
          return newMessage(MessageType.Heartbeat, other, self, term);
        return newMessage(MessageType.Heartbeat, self, self, Math.max(term, 1));
      }
      default:
        return newMessage(MessageType.Heartbeat, self, self, Math.max(term, 1));
    }
  }
}

function entry(term: number, index: number) {
  return { term, index, type: EntryType.Normal, data: new Uint8Array(4) };
}

function total(r: RefusedCounts): number {
  return r.termAboveMax + r.termJump + r.inconsistent;
}
