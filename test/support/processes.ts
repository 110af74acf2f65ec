// Child processes for tests: start an entry point, wait for a line it prints, stop it. The
// product's entry points (cmd/*.ts) run compiled, as in production (`node dist/cmd/x.js`; the
// test run builds dist/ first, see build-setup.ts); test programs run as `node --import tsx`.
// Either way the pid we hold is the program itself, not a wrapper (as `npx` would be), so a
// SIGKILL really kills the server rather than orphaning it. Every started process is tracked; stopAllProcesses()
// (wired into afterEach/afterAll by the caller or by autoCleanup) kills whatever is left.

import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** Lines kept per stream for waiting and for failure reports; older ones are dropped. */
const keptLinesMax = 10_000;
/** How long stop() waits after SIGTERM before it sends SIGKILL. */
export const stopGraceMsDefault = 10_000;
/** How long waitForLine waits unless told otherwise. */
export const waitForLineMsDefault = 20_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  /** Working directory; the repository root by default (relative entry points resolve there). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** A label for failure messages; the file name by default. */
  name?: string;
}

type LineListener = (line: string) => void;

export class TestProcess {
  readonly stdoutLines: string[] = [];
  readonly stderrLines: string[] = [];
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
  private readonly listeners = new Set<LineListener>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    readLines(child.stdout, (line) => {
      keep(this.stdoutLines, line);
      for (const l of this.listeners) l(line);
    });
    readLines(child.stderr, (line) => keep(this.stderrLines, line));
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`${this.name} has no pid (spawn failed)`);
    return pid;
  }

  get stderr(): string {
    return this.stderrLines.join("\n");
  }

  /**
   * Resolves with the first stdout line (seen so far or yet to come) that `predicate` accepts.
   * Rejects, with the process's recent output, on timeout or if the process exits first.
   */
  waitForLine(predicate: (line: string) => boolean, timeoutMs = waitForLineMsDefault): Promise<string> {
    const seen = this.stdoutLines.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(onLine);
      };
      const onLine: LineListener = (line) => {
        if (!predicate(line)) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no matching output line within ${timeoutMs} ms\n${this.report()}`));
      }, timeoutMs);
      this.listeners.add(onLine);
      void this.exited.then((exit) => {
        if (!this.listeners.has(onLine)) return;
        done();
        reject(
          new Error(`${this.name} exited (${describeExit(exit)}) before printing the awaited line\n${this.report()}`),
        );
      });
    });
  }

  /** Like waitForLine, over stdout lines that are JSON objects (log lines). */
  async waitForJson(
    predicate: (entry: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>> {
    const line = await this.waitForLine((l) => {
      const entry = parseJsonObject(l);
      return entry !== undefined && predicate(entry);
    }, timeoutMs);
    return parseJsonObject(line)!;
  }

  /** Waits for the process to end on its own. */
  async waitForExit(timeoutMs = stopGraceMsDefault): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms\n${this.report()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves with how it ended. */
  async stop(graceMs = stopGraceMsDefault): Promise<Exit> {
    if (this.exit) return this.exit;
    this.signal("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), graceMs);
    });
    const first = await Promise.race([this.exited, grace]);
    clearTimeout(timer);
    if (first !== "late") return first;
    this.signal("SIGKILL");
    return this.exited;
  }

  /** SIGKILL now (a crash, as far as the program can tell) and wait until it is gone. */
  async kill(): Promise<Exit> {
    if (this.exit) return this.exit;
    this.signal("SIGKILL");
    return this.exited;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exit) return;
    try {
      process.kill(this.pid, signal);
    } catch (e) {
      // Already gone between the check and the kill: nothing to stop.
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
    }
  }

  /** The last lines of both streams, for failure messages. */
  report(lines = 40): string {
    const tail = (xs: string[]): string => xs.slice(-lines).join("\n");
    return `--- stderr (last ${lines} lines) ---\n${tail(this.stderrLines)}\n--- stdout (last ${lines} lines) ---\n${tail(this.stdoutLines)}`;
  }
}

const running = new Set<TestProcess>();

/** How `file` (relative to the repository) is run: a product entry point compiled, else via tsx. */
export function nodeArgsFor(file: string): string[] {
  const compiled = /^cmd\/([\w-]+)\.ts$/.exec(file);
  return compiled === null ? ["--import", "tsx", file] : [join(repoRoot, "dist", "cmd", `${compiled[1]}.js`)];
}

/** Starts `file` (see nodeArgsFor) with `args`; the process is tracked until it exits. */
export function startTsProcess(file: string, args: readonly string[] = [], options: StartOptions = {}): TestProcess {
  const child = spawn(process.execPath, [...nodeArgsFor(file), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const proc = new TestProcess(options.name ?? file, child);
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  return proc;
}

/** Stops every process started here that is still running (SIGTERM, then SIGKILL). */
export async function stopAllProcesses(graceMs = stopGraceMsDefault): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(graceMs)));
}

// Last resort if the test runner's worker exits with children still running: never leave a
// server behind holding a port or a data dir.
process.once("exit", () => {
  for (const p of running) p.signal("SIGKILL");
});

function readLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) onLine(line);
  });
  stream.on("end", () => {
    if (partial !== "") onLine(partial);
    partial = "";
  });
}

function keep(lines: string[], line: string): void {
  lines.push(line);
  if (lines.length > keptLinesMax) lines.splice(0, lines.length - keptLinesMax);
}

export function parseJsonObject(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
