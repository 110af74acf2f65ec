// What identifies the version of the files a process watches (its TLS files, the API keys
// file): a rename into place changes the inode, an in-place rewrite the mtime or size. Polling
// these is how both watchers notice a rotation: fs.watch reports renames on the directory, not
// the file, and behaves differently across filesystems.

import { stat } from "node:fs/promises";

/** One string that changes whenever any of `paths` is replaced, rewritten, created or removed. */
export async function fileVersions(paths: readonly string[]): Promise<string> {
  const stats = await Promise.all(paths.map((p) => stat(p).catch(() => undefined)));
  return stats.map((s) => (s === undefined ? "missing" : `${s.ino}:${s.size}:${s.mtimeMs}`)).join("|");
}
