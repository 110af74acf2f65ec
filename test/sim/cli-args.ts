// Flag parsers shared by the simulators' CLIs (test/sim/main.ts, test/cluster-sim/main.ts): a bad
// value throws commander's InvalidArgumentError, so the CLI prints the usage and exits 2.

import { InvalidArgumentError } from "commander";

/** A whole number in [min, max], digits only. */
export function integer(min: number, max: number): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`expected a whole number, got "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`expected ${min}..${max}, got ${n}`);
    return n;
  };
}
