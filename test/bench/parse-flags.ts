// Parses bench flags as the command line would, capturing commander's message: the options, or
// undefined and the error text commander printed.

import { CommanderError } from "commander";
import { parseBenchOptions, type BenchOptions } from "../../tools/bench/bench-options.js";

export function parseFlags(args: readonly string[]): { options: BenchOptions | undefined; err: string } {
  let err = "";
  try {
    return {
      options: parseBenchOptions(["node", "bench", ...args], {
        writeOut: () => undefined,
        writeErr: (s) => (err += s),
      }),
      err,
    };
  } catch (e) {
    if (e instanceof CommanderError) return { options: undefined, err };
    throw e;
  }
}
