// Invariant checks that stay on in production (TigerStyle): a broken invariant means the
// process's state cannot be trusted, so it crashes and recovers by restart and replay.

export class AssertionError extends Error {
  override name = "AssertionError";
}

/** `message` may be a function so that hot paths build no string unless the check fails. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionError(typeof message === "function" ? message() : message);
}

export function unreachable(value: never, what: string): never {
  throw new AssertionError(`unreachable: unexpected ${what}: ${String(value)}`);
}
