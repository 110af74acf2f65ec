// The run's trace: every delivered message, fault and client action, folded into a hash (two
// runs of one seed must produce the same hash) and kept in a small ring for the failure report.
// Records are plain numbers so that tracing costs no allocation per step.

import { hashSeed, mix } from "./hash.js";
import { refusalCodes } from "./refusals.js";

export enum TraceKind {
  Deliver = 1,
  Drop,
  Leader,
  Propose,
  Refused,
  Apply,
  ReadAsk,
  ReadAnswer,
  Crash,
  Restart,
  Partition,
  OneWay,
  Heal,
  Weather,
  Snapshot,
  Transfer,
  Campaign,
  Settled,
  Pause,
  Forge,
  ConfChange,
}

const fieldsPerRecord = 6;

export class Trace {
  hash = hashSeed;
  step = 0;
  private readonly ring: Float64Array;
  private next = 0;
  private count = 0;

  constructor(
    private readonly capacity: number,
    private readonly onRecord?: (line: string) => void,
  ) {
    this.ring = new Float64Array(capacity * fieldsPerRecord);
  }

  record(kind: TraceKind, a = 0, b = 0, c = 0, d = 0): void {
    let h = mix(this.hash, this.step);
    h = mix(h, kind);
    h = mix(h, a);
    h = mix(h, b);
    h = mix(h, c);
    this.hash = mix(h, d);
    const o = this.next * fieldsPerRecord;
    this.ring[o] = this.step;
    this.ring[o + 1] = kind;
    this.ring[o + 2] = a;
    this.ring[o + 3] = b;
    this.ring[o + 4] = c;
    this.ring[o + 5] = d;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    if (this.onRecord !== undefined) this.onRecord(formatRecord(this.ring, o));
  }

  /** True when every record is printed as it happens (--verbose). */
  get verbose(): boolean {
    return this.onRecord !== undefined;
  }

  /** An extra detail line for --verbose only; not part of the hash or the ring. */
  print(line: string): void {
    this.onRecord?.(`${`#${this.step}`.padEnd(7)}   ${line}`);
  }

  /** The last `n` records, oldest first, one line each. */
  tail(n: number): string[] {
    const k = Math.min(n, this.count);
    const lines: string[] = [];
    for (let i = k; i > 0; i--) {
      const slot = (this.next - i + this.capacity) % this.capacity;
      lines.push(formatRecord(this.ring, slot * fieldsPerRecord));
    }
    return lines;
  }
}

const messageNames = [
  "?",
  "App",
  "AppResp",
  "Vote",
  "VoteResp",
  "PreVote",
  "PreVoteResp",
  "Hb",
  "HbResp",
  "Snap",
  "TimeoutNow",
  "ReadIndex",
  "ReadIndexResp",
  "TransferLeader",
];
const dropReasons = ["?", "lost", "partitioned", "down", "stale"];
const confChangeNames = ["?", "AddVoter", "AddLearner", "Remove"];

function formatRecord(r: Float64Array, o: number): string {
  const [step, kind, a, b, c, d] = [r[o]!, r[o + 1]!, r[o + 2]!, r[o + 3]!, r[o + 4]!, r[o + 5]!];
  const at = `#${step}`.padEnd(7);
  switch (kind as TraceKind) {
    case TraceKind.Deliver:
      return `${at} ${messageNames[a] ?? a} ${b}->${c} term=${d}`;
    case TraceKind.Drop:
      return `${at} drop ${messageNames[a] ?? a} ${b}->${c} (${dropReasons[d] ?? d})`;
    case TraceKind.Leader:
      return `${at} replica ${a} leads term ${b}`;
    case TraceKind.Propose:
      return `${at} propose payload ${b} at replica ${a}`;
    case TraceKind.Refused:
      return `${at} replica ${a} refused ${b === 0 ? "a read" : `payload ${b}`} (${refusalCodes[c] ?? c})`;
    case TraceKind.Apply:
      return `${at} replica ${a} applied index ${b} payload ${c}`;
    case TraceKind.ReadAsk:
      return `${at} read ${b} asked at replica ${a}`;
    case TraceKind.ReadAnswer:
      return `${at} read ${b} answered at replica ${a} with index ${c}`;
    case TraceKind.Crash:
      return `${at} replica ${a} crashes (kept ${b} of ${c} unsynced writes)`;
    case TraceKind.Restart:
      return `${at} replica ${a} restarts (applied ${b}, term ${c}, last index ${d})`;
    case TraceKind.Partition:
      return `${at} partition: replicas ${maskMembers(a)} cut off from the rest`;
    case TraceKind.OneWay:
      return `${at} one-way cut ${a}->${b}`;
    case TraceKind.Heal:
      return `${at} network healed`;
    case TraceKind.Weather:
      return `${at} loss ${a}% duplication ${b}% max delay ${c}`;
    case TraceKind.Snapshot:
      return `${at} replica ${a} snapshots at ${b}, compacts to ${c}`;
    case TraceKind.Transfer:
      return `${at} replica ${a} asked to transfer leadership to ${b}`;
    case TraceKind.Campaign:
      return `${at} replica ${a} campaigns`;
    case TraceKind.Pause:
      return `${at} replica ${a} pauses for ${b} steps`;
    case TraceKind.Forge:
      return `${at} a forged message (kind ${b}) refused by replica ${a}`;
    case TraceKind.ConfChange:
      return `${at} replica ${a} proposed ${confChangeNames[b] ?? b} ${c}${d === 0 ? "" : " (refused)"}`;
    case TraceKind.Settled:
      return `${at} settled: commit ${a}, ${b} acknowledged writes`;
  }
  return `${at} kind ${kind} ${a} ${b} ${c} ${d}`;
}

function maskMembers(mask: number): string {
  const ids: number[] = [];
  for (let i = 1; i < 32; i++) if ((mask >> i) & 1) ids.push(i);
  return ids.join(",");
}
