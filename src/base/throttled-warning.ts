// A warning that can fire once per message from outside (a broken or hostile peer) is logged at
// most once per interval, with how many times it happened since the last line: the log stays
// readable and cannot be flooded.

import type { Logger } from "../base/logger.js";

export class ThrottledWarning {
  private suppressed = 0;
  private lastLogMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  note(fields: Record<string, unknown>, msg: string): void {
    const t = this.now();
    if (t - this.lastLogMs < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.logger.warn({ ...fields, suppressedSinceLastLine: this.suppressed }, msg);
    this.suppressed = 0;
    this.lastLogMs = t;
  }
}
