// Temporary directories for tests, tracked so cleanup removes every one of them even when a
// test fails halfway.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const created = new Set<string>();

/** A new empty directory under the OS temp dir; removed by removeAllTempDirs(). */
export async function makeTempDir(prefix = "ledger-test-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.add(dir);
  return dir;
}

export async function removeAllTempDirs(): Promise<void> {
  const dirs = [...created];
  created.clear();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
}
