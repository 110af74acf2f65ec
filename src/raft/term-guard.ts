// Bounds on how a peer's message may move this replica's term. Raft adopts any higher term it
// hears, so one message with a huge term would depose every leader it reaches and, near the
// integer limit, leave no term for the next election (finding 2 of issue 12). Two bounds, both
// judged from this replica's own state, never from anything the sender claims about itself:
//
//  - maxTerm: a term above it is refused outright, and this replica never campaigns past it;
//  - term credit: a message may raise our term by at most the credit, and what an accepted
//    jump spends comes back at one term per election timeout of our own ticks, up to maxJump.
//    While peers keep showing us terms beyond the credit (we were away while the cluster held
//    more elections than maxJump), it keeps growing past maxJump, one term per election
//    timeout, until it covers the gap and we rejoin. So no sequence of messages can push our
//    term ahead faster than one term per election timeout beyond the first maxJump, which is
//    the fastest a cluster's own elections could move it while we were listening.
//
// Our own campaigns never spend credit: each is one term after a timeout of our own.

import type { RefusalReason } from "./types.js";

export class TermGuard {
  /** How many terms a message may raise ours by right now. */
  private credit: number;
  private ticksTowardCredit = 0;
  /** A message was refused for its term jump within the current credit window. */
  private peersAhead = false;

  constructor(
    readonly maxTerm: number,
    readonly maxJump: number,
    /** Ticks per term of credit regained (the election timeout). */
    private readonly ticksPerCredit: number,
  ) {
    this.credit = maxJump;
  }

  /** Why a message at `term` may not be stepped by a replica at `current`, or undefined. */
  check(current: number, term: number): RefusalReason | undefined {
    if (term > this.maxTerm) return "termAboveMax";
    if (term > current && term - current > this.credit) {
      this.peersAhead = true;
      return "termJump";
    }
    return undefined;
  }

  /** The reason a `check` refusal gives, in terms of our own state. */
  explain(reason: RefusalReason, current: number, term: number): string {
    if (reason === "termAboveMax") return `its term ${term} is above the maximum term ${this.maxTerm}`;
    return `its term ${term} is ${term - current} beyond ours (${current}); this replica's term credit allows ${this.credit} now`;
  }

  /** Our term moved up by `delta` because of a peer's message. */
  spend(delta: number): void {
    this.credit = Math.max(0, this.credit - delta);
  }

  /** Whether this replica may campaign in `term` (one past its own). */
  mayCampaignIn(term: number): boolean {
    return term <= this.maxTerm;
  }

  tick(): void {
    if (++this.ticksTowardCredit < this.ticksPerCredit) return;
    this.ticksTowardCredit = 0;
    if (this.credit < this.maxJump || this.peersAhead) this.credit++;
    this.peersAhead = false;
  }

  creditNow(): number {
    return this.credit;
  }
}
