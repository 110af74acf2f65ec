// Progress of a long CLI run, on stderr so stdout stays clean for piping. A live bar when a
// person is watching (stderr is a terminal) and the run is long enough to be worth one;
// otherwise a plain line now and then, which reads well in logs and CI output.

import { SingleBar } from "cli-progress";
import type { DevIo } from "./io.js";
import { writeLine } from "./io.js";
import { progressBarCountMin, progressLineIntervalMs } from "./limits.js";
export { progressBarCountMin, progressLineIntervalMs } from "./limits.js";

export interface Progress {
  increment(): void;
  stop(): void;
}

export function startProgress(total: number, what: string, stderr: DevIo["stderr"]): Progress {
  if (stderr.isTTY === true && total >= progressBarCountMin) {
    const bar = new SingleBar({
      stream: stderr,
      format: `${what} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: false,
    });
    bar.start(total, 0);
    return { increment: () => bar.increment(), stop: () => bar.stop() };
  }
  let done = 0;
  let lastLineAt = Date.now();
  return {
    increment() {
      done++;
      const now = Date.now();
      if (done < total && now - lastLineAt >= progressLineIntervalMs) {
        lastLineAt = now;
        writeLine(stderr, `${what}: ${done}/${total}`);
      }
    },
    stop() {},
  };
}
