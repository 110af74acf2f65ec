// The three answers a checker gives. "unknown" means the checker could not decide (a search
// that ran out of budget, evidence that does not say); it is never counted as a pass.

export type Verdict = "ok" | "illegal" | "unknown";

/** Illegal if any part is, else unknown if any part is, else ok (no parts: ok). */
export function combine(verdicts: Iterable<Verdict>): Verdict {
  let result: Verdict = "ok";
  for (const v of verdicts) {
    if (v === "illegal") return "illegal";
    if (v === "unknown") result = "unknown";
  }
  return result;
}
