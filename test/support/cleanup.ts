// One call per test file wires the cleanup of processes and temp dirs into vitest's hooks.
// "each": suites whose tests start their own processes; "all": suites that share a server
// started in beforeAll. Either way the hooks run when a test fails too.

import { afterAll, afterEach } from "vitest";
import { stopAllProcesses } from "./processes.js";
import { removeAllTempDirs } from "./temp-dirs.js";

export async function cleanUpEverything(): Promise<void> {
  // Processes first: a server may still hold files in a temp dir.
  await stopAllProcesses();
  await removeAllTempDirs();
}

export function autoCleanup(scope: "each" | "all" = "each"): void {
  if (scope === "each") afterEach(cleanUpEverything);
  afterAll(cleanUpEverything);
}
