// The simulated network: each message gets a random delay in whole steps (so messages reorder),
// may be lost or duplicated, and is dropped at delivery time if its link is cut by a partition
// (cuts are per direction, so one-way partitions come free). All randomness is the run's PRNG.

import type { Prng } from "../../src/base/prng.js";
import type { Message, ReplicaId } from "../../src/raft/types.js";

/** Longest delay a message can see; a ring of this many slots holds everything in flight. */
export const messageDelayStepsMax = 24;

export interface InFlight {
  readonly m: Message;
  /** The sender's incarnation, so a restarted sender is not told about its previous life's sends. */
  readonly senderIncarnation: number;
}

export interface Weather {
  /** Chance in [0, 1) that a message is lost. */
  loss: number;
  duplication: number;
  /** Usual delays are 1..delayMax steps; */
  delayMax: number;
  /** the chance of an unusually slow message (up to messageDelayStepsMax). */
  slow: number;
}

export const calmWeather: Weather = { loss: 0, duplication: 0, delayMax: 2, slow: 0 };

export class SimNetwork {
  weather: Weather = calmWeather;
  private readonly slots: InFlight[][] = [];
  private readonly cut: boolean[];
  inFlightCount = 0;

  constructor(
    private readonly replicaCount: number,
    private readonly random: Prng,
  ) {
    for (let i = 0; i <= messageDelayStepsMax; i++) this.slots.push([]);
    this.cut = new Array<boolean>((replicaCount + 1) * (replicaCount + 1)).fill(false);
  }

  /** Queues `m`; false if it was lost on the way. */
  send(m: Message, senderIncarnation: number, now: number): boolean {
    const w = this.weather;
    if (w.loss > 0 && this.random.float() < w.loss) return false;
    this.enqueue({ m, senderIncarnation }, now);
    if (w.duplication > 0 && this.random.float() < w.duplication) this.enqueue({ m: { ...m }, senderIncarnation }, now);
    return true;
  }

  private enqueue(f: InFlight, now: number): void {
    const w = this.weather;
    const delay =
      w.slow > 0 && this.random.float() < w.slow
        ? 1 + this.random.intBelow(messageDelayStepsMax)
        : 1 + this.random.intBelow(w.delayMax);
    this.slots[(now + delay) % this.slots.length]!.push(f);
    this.inFlightCount++;
  }

  /** Everything due at step `now`, in send order; the caller delivers or drops each. */
  takeDue(now: number): InFlight[] {
    const i = now % this.slots.length;
    const due = this.slots[i]!;
    if (due.length === 0) return due;
    this.slots[i] = [];
    this.inFlightCount -= due.length;
    return due;
  }

  isCut(from: ReplicaId, to: ReplicaId): boolean {
    return this.cut[from * (this.replicaCount + 1) + to]!;
  }

  setCut(from: ReplicaId, to: ReplicaId, cut: boolean): void {
    this.cut[from * (this.replicaCount + 1) + to] = cut;
  }

  /** Cuts every link between the replicas in `mask` (bit i = replica i) and the others. */
  partition(mask: number): void {
    for (let a = 1; a <= this.replicaCount; a++) {
      for (let b = 1; b <= this.replicaCount; b++) {
        const inA = (mask >> a) & 1;
        const inB = (mask >> b) & 1;
        if (inA !== inB) this.setCut(a, b, true);
      }
    }
  }

  heal(): void {
    this.cut.fill(false);
  }

  get anyCut(): boolean {
    return this.cut.includes(true);
  }
}
