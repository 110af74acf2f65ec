// Latency recording: an HDR histogram in microseconds (3 significant digits), so p99.9 and the
// maximum of a run of millions of calls cost a few kilobytes and no sorting.

import * as hdr from "hdr-histogram-js";
import { benchLatencyUsMax } from "./limits.js";

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export class LatencyRecorder {
  private readonly histogram = hdr.build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: benchLatencyUsMax,
    numberOfSignificantValueDigits: 3,
  });

  /** One call's latency, in microseconds (fractions rounded; clamped to [1, benchLatencyUsMax]). */
  record(us: number): void {
    this.histogram.recordValue(Math.min(benchLatencyUsMax, Math.max(1, Math.round(us))));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** Percentiles and maximum in microseconds (0 when nothing was recorded). */
  summary(): LatencySummary {
    const h = this.histogram;
    if (h.totalCount === 0) return { count: 0, p50: 0, p99: 0, p999: 0, max: 0 };
    // A percentile is reported as the top of its bucket (3 significant digits), which can lie
    // above the exact maximum recorded; capping keeps p50 <= p99 <= p99.9 <= max true.
    const at = (p: number): number => Math.min(h.getValueAtPercentile(p), h.maxValue);
    return { count: h.totalCount, p50: at(50), p99: at(99), p999: at(99.9), max: h.maxValue };
  }
}
