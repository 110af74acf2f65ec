// Counts of peer messages a replica refused, by reason, and their log lines. A broken or hostile
// peer can send a refused message on every heartbeat, so past the first raftRefusalsLoggedInFull
// of a reason only the 32nd, 64th, ... are logged (with the count so far): the log stays
// readable and the counts, which the node can export as a metric, say the rest. Deterministic:
// no clock.

import { raftRefusalsLoggedInFull } from "./limits.js";
import { describeMessage } from "./describe.js";
import type { Message, RaftLogger, RefusalReason, RefusedCounts } from "./types.js";

export class Refusals {
  private readonly counts: Record<RefusalReason, number> = { termAboveMax: 0, termJump: 0, inconsistent: 0 };
  private readonly nextLogged: Record<RefusalReason, number> = { termAboveMax: 1, termJump: 1, inconsistent: 1 };

  constructor(
    private readonly id: number,
    private readonly logger: RaftLogger | undefined,
  ) {}

  /** Records that `m` was refused (and not stepped) because `why`. */
  note(reason: RefusalReason, m: Message, why: string): void {
    const n = ++this.counts[reason];
    if (n === this.nextLogged[reason]) {
      this.nextLogged[reason] = n < raftRefusalsLoggedInFull ? n + 1 : 2 * n;
      this.logger?.warn(`${this.id} refused ${describeMessage(m)}: ${why} (${reason} refusal #${n})`);
    }
  }

  snapshot(): RefusedCounts {
    return { ...this.counts };
  }

  total(): number {
    return this.counts.termAboveMax + this.counts.termJump + this.counts.inconsistent;
  }
}
