// A broken safety or liveness property found by a checker. It names the property so a failing
// seed says at once what went wrong; the message carries the evidence.

export type Property =
  | "election-safety"
  | "quorum-overlap"
  | "vote-safety"
  | "log-matching"
  | "leader-completeness"
  | "state-machine-safety"
  | "read-index-safety"
  | "acked-write-lost"
  | "liveness"
  | "entry-data"
  | "snapshot-data"
  | "peer-input";

export class SafetyViolation extends Error {
  override name = "SafetyViolation";
  constructor(
    readonly property: Property,
    detail: string,
  ) {
    super(`${property}: ${detail}`);
  }
}
