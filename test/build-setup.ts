// Vitest global setup: the product's entry points run compiled in tests (test/support/processes.ts),
// so dist/ is brought up to date before any test starts (incremental: seconds when little changed).

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const root = fileURLToPath(new URL("..", import.meta.url));
  execFileSync(process.execPath, [`${root}tools/build.mjs`], { stdio: "inherit", cwd: root });
}
