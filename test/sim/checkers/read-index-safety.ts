// ReadIndex safety (linearizable reads): a read point must not precede any write that was
// acknowledged to a client before the read was asked, or the read could miss that write.

import { SafetyViolation } from "../violation.js";

export class ReadIndexSafety {
  private highestAckedIndex = 0;
  private readonly requiredIndex = new Map<number, number>();

  /** A write at `index` was acknowledged to the client. */
  ack(index: number): void {
    if (index > this.highestAckedIndex) this.highestAckedIndex = index;
  }

  ask(context: number): void {
    if (this.requiredIndex.has(context)) throw new RangeError(`read context ${context} asked twice`);
    this.requiredIndex.set(context, this.highestAckedIndex);
  }

  answer(context: number, index: number): void {
    const need = this.requiredIndex.get(context);
    if (need === undefined)
      throw new SafetyViolation(
        "read-index-safety",
        `an answer (index ${index}) for read context ${context} nobody asked`,
      );
    if (index < need) {
      throw new SafetyViolation(
        "read-index-safety",
        `read ${context} answered with index ${index}, but index ${need} was acknowledged before it was asked`,
      );
    }
  }
}
