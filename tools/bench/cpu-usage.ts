// CPU time of processes: our own through process.cpuUsage(), others' from /proc/<pid>/stat
// (utime + stime, in clock ticks, all threads). Read before and after the measured window; the
// difference is what the window cost.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { LedgerError } from "../../src/base/errors.js";

/** Linux's USER_HZ on every common platform; used when `getconf CLK_TCK` cannot be asked. */
const clockTicksPerSecondFallback = 100;

/**
 * User + system CPU ticks from the text of /proc/<pid>/stat. The command name (field 2) is in
 * parentheses and may itself hold spaces and parentheses, so fields are counted from the last
 * ")": utime and stime are fields 14 and 15 of the whole line.
 */
export function parseProcStatTicks(text: string): number {
  const close = text.lastIndexOf(")");
  if (close < 0) throw new LedgerError("INVALID_ARGUMENT", "/proc stat: no command name in parentheses");
  // After ")": field 3 (state) is first, so field n is at index n - 3.
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number): number => {
    const raw = fields[n - 3];
    if (raw === undefined || !/^\d+$/.test(raw))
      throw new LedgerError("INVALID_ARGUMENT", `/proc stat: field ${n} is ${JSON.stringify(raw)}, not a tick count`);
    return Number(raw);
  };
  return field(14) + field(15);
}

let ticksPerSecond: number | undefined;

export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
      ticksPerSecond = Number.isInteger(n) && n > 0 ? n : clockTicksPerSecondFallback;
    } catch {
      ticksPerSecond = clockTicksPerSecondFallback;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds the process has used so far (resolution: one clock tick, usually 10 ms). */
export function processCpuSeconds(pid: number): number {
  return parseProcStatTicks(readFileSync(`/proc/${pid}/stat`, "utf8")) / clockTicksPerSecond();
}

/** CPU seconds this process has used so far (microsecond resolution). */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** CPU seconds per named process, read now. `pids`: name -> pid of processes to read. */
export function readCpu(pids: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>([["client", ownCpuSeconds()]]);
  for (const [name, pid] of pids) out.set(name, processCpuSeconds(pid));
  return out;
}

/** after - before, per name of `after`. */
export function cpuDelta(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, number> {
  return new Map([...after].map(([name, seconds]) => [name, seconds - (before.get(name) ?? 0)]));
}

/** The peak resident set (VmHWM) of a process in MiB, from /proc/<pid>/status text. */
export function parsePeakRssMiB(statusText: string): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(statusText);
  if (match === null) throw new Error("no VmHWM line in /proc status");
  return Number(match[1]) / 1024;
}

/** Peak resident memory per named process, in MiB (the bench's own process as "client"). */
export function readPeakRss(pids: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>([["client", parsePeakRssMiB(readFileSync("/proc/self/status", "utf8"))]]);
  for (const [name, pid] of pids) out.set(name, parsePeakRssMiB(readFileSync(`/proc/${pid}/status`, "utf8")));
  return out;
}
