// npm run build: the runtime is compiled JavaScript (tsx compiles at every start, ~0.8 s of CPU
// and ~30 MB more per process). tsc emits src/ and cmd/ into dist/ (incremental: a build with
// nothing changed takes a second or two), and the .proto files reflection serves are copied
// beside the code that reads them (dist/src/ops/reflection.js looks in dist/proto/).

import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, "-p", `${root}tsconfig.build.json`], {
  stdio: "inherit",
});
rmSync(`${root}dist/proto`, { recursive: true, force: true });
cpSync(`${root}proto`, `${root}dist/proto`, { recursive: true });
