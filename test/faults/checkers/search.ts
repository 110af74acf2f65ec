// Wing & Gong's linearizability search with Porcupine's memoization: walk the ops as a list of
// call and return events in time order; try to linearize each op whose call comes before the
// first pending return; remember every (set of linearized ops, model state) already explored so
// that no configuration is searched twice; backtrack at a return whose op is not yet placed.
// An op whose return is at +Infinity (an unknown outcome) may be placed at any point after its
// call, or never: once only such ops remain, the history is linearizable. One shortcut on top:
// an op that leaves the state as it is (a read, a refusal) is placed as soon as it fits and is
// never tried later instead, since any order that fits with it later fits with it there too.

export type StepResult<S> = { readonly ok: true; readonly state: S } | { readonly ok: false; readonly why: string };

export interface SearchModel<S, O> {
  readonly init: S;
  /** Applies `op` to `state` if the op's observed outcome is what the model answers there.
   * Returning `state` itself (the same object) says the op changed nothing (a read). */
  step(state: S, op: O): StepResult<S>;
  /** Equal states must give equal strings (the memo key). */
  hash(state: S): string;
}

export interface TimedOp<O> {
  readonly op: O;
  readonly invokeMs: number;
  /** +Infinity: the op may take effect at any time after its invoke, or never. */
  readonly returnMs: number;
}

export interface SearchBudget {
  readonly stepsMax: number;
  readonly timeMsMax: number;
  /** Monotonic milliseconds; injected so the search itself reads no clock. */
  readonly clock: () => number;
}

export type SearchResult =
  | { readonly kind: "ok"; readonly order: readonly number[]; readonly steps: number }
  | {
      readonly kind: "illegal";
      /** The longest prefix of a linearization found (op indices, in order). */
      readonly prefix: readonly number[];
      /** The op that had returned but could not be placed after that prefix. */
      readonly blocked: number;
      readonly why: string;
      readonly steps: number;
    }
  | { readonly kind: "unknown"; readonly reason: string; readonly steps: number };

interface Entry {
  readonly id: number;
  readonly isCall: boolean;
  readonly time: number;
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** How often the clock is consulted (every this many steps). */
const clockCheckEverySteps = 1024;

export function searchLinearization<S, O>(
  model: SearchModel<S, O>,
  ops: readonly TimedOp<O>[],
  budget: SearchBudget,
): SearchResult {
  const head = buildEntries(ops);
  const started = budget.clock();
  const seen = new Set<string>();
  const stack: { entry: Entry; state: S; greedy: boolean }[] = [];
  let state = model.init;
  let linearized = 0n;
  let steps = 0;
  let best: { prefix: number[]; blocked: number; state: S } | undefined;
  let entry = head.next;
  for (;;) {
    steps++;
    if (steps > budget.stepsMax)
      return { kind: "unknown", reason: `gave up after ${budget.stepsMax} search steps`, steps };
    if (steps % clockCheckEverySteps === 0 && budget.clock() - started > budget.timeMsMax) {
      return { kind: "unknown", reason: `gave up after ${budget.timeMsMax} ms (${steps} search steps)`, steps };
    }
    // Past the last finite return, only unknown ops are left: they may all never have happened.
    if (entry === undefined || (!entry.isCall && entry.time === Infinity))
      return { kind: "ok", order: stack.map((s) => s.entry.id), steps };
    if (entry.isCall) {
      const result = model.step(state, ops[entry.id]!.op);
      if (result.ok) {
        const next = linearized | (1n << BigInt(entry.id));
        const key = `${next.toString(36)}#${digest(model.hash(result.state))}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ entry, state, greedy: result.state === state });
          state = result.state;
          linearized = next;
          lift(entry);
          entry = head.next;
          continue;
        }
      }
      entry = entry.next;
      continue;
    }
    // The first return of an op not yet placed: nothing after it may go before it, so back up.
    if (best === undefined || stack.length > best.prefix.length) {
      best = { prefix: stack.map((s) => s.entry.id), blocked: entry.id, state };
    }
    let top = stack.pop();
    // An op that changed nothing was placed as early as it could go, and any order that places
    // it later can place it there instead: so once it fails, so does every alternative to it.
    while (top?.greedy) {
      linearized &= ~(1n << BigInt(top.entry.id));
      unlift(top.entry);
      top = stack.pop();
    }
    if (top === undefined) break;
    state = top.state;
    linearized &= ~(1n << BigInt(top.entry.id));
    unlift(top.entry);
    entry = top.entry.next;
  }
  const found = best ?? { prefix: [], blocked: 0, state: model.init };
  const attempt = model.step(found.state, ops[found.blocked]!.op);
  const why = attempt.ok
    ? "it fits there, but no order of the ops still open then fits the rest of the history"
    : attempt.why;
  return { kind: "illegal", prefix: found.prefix, blocked: found.blocked, why, steps };
}

/** A doubly linked list of call and return events in time order (calls first on ties, so ops
 * that touch are concurrent), behind a sentinel head. */
function buildEntries<O>(ops: readonly TimedOp<O>[]): Entry {
  const events: Entry[] = [];
  ops.forEach((op, id) => {
    const call: Entry = { id, isCall: true, time: op.invokeMs, match: undefined, prev: undefined, next: undefined };
    const ret: Entry = { id, isCall: false, time: op.returnMs, match: undefined, prev: undefined, next: undefined };
    call.match = ret;
    events.push(call, ret);
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1));
  const head: Entry = { id: -1, isCall: false, time: -Infinity, match: undefined, prev: undefined, next: undefined };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

function lift(call: Entry): void {
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next !== undefined) ret.next.prev = ret.prev;
}

function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== undefined) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}

/**
 * Two independent 32-bit hashes (FNV-1a and a multiply-rotate one) of a state's text: the memo
 * holds these 64 bits instead of the text, so its memory does not grow with the account's size.
 * A collision could only prune a branch (a false "illegal", never a false "ok"); at a million
 * states its odds are about 3e-8.
 */
export function digest(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul((b << 5) | (b >>> 27), 0x85ebca6b) ^ c;
  }
  return `${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}`;
}
