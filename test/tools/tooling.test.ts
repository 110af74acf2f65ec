// The checks `npm test` runs before the suites can fail: the formatter and linter (Biome, with
// the repository's biome.jsonc) and the dependency rules (dependency-cruiser, with the
// repository's .dependency-cruiser.cjs), each on small files in a scratch tree that break them.

import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { makeTempDir } from "../support/temp-dirs.js";
import { autoCleanup } from "../support/cleanup.js";

autoCleanup();

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../..", import.meta.url));
const bin = (name: string): string => join(repo, "node_modules", ".bin", name);

/** Runs a tool in `cwd`; its exit code and output. */
async function tool(name: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(bin(name), args, { cwd, maxBuffer: 10 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

/** A scratch tree with `files` (path -> text) beside a copy of `tool`'s repository config. */
async function scratch(files: Record<string, string>, forTool: "biome" | "depcruise"): Promise<string> {
  const dir = await makeTempDir("tooling-");
  if (forTool === "biome") {
    // Not a git checkout: Biome is told not to read .gitignore there.
    const config = (await readFile(join(repo, "biome.jsonc"), "utf8")).replace(
      '"vcs": { "enabled": true',
      '"vcs": { "enabled": false',
    );
    await writeFile(join(dir, "biome.jsonc"), config);
  } else {
    await writeFile(join(dir, ".dependency-cruiser.cjs"), await readFile(join(repo, ".dependency-cruiser.cjs")));
    await writeFile(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true } }),
    );
  }
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

describe("the formatter and linter (npm run lint)", () => {
  it("pass a clean file, and fail on bad formatting and on a lint rule, naming the file", async () => {
    const clean = await scratch({ "test/ok.ts": "export const a = 1;\n" }, "biome");
    expect((await tool("biome", ["check", "--error-on-warnings", "."], clean)).code).toBe(0);
    const misformatted = await scratch({ "test/ugly.ts": "export const  a =   1;;\n" }, "biome");
    const f = await tool("biome", ["check", "--error-on-warnings", "."], misformatted);
    expect(f.code).not.toBe(0);
    expect(f.output).toContain("test/ugly.ts");
    const linty = await scratch(
      { "test/linty.ts": "export function f(xs: number[]): void {\n  xs.forEach((x) => x + 1);\n}\n" },
      "biome",
    );
    const l = await tool("biome", ["check", "--error-on-warnings", "."], linty);
    expect(l.code).not.toBe(0);
    expect(l.output).toContain("useIterableCallbackReturn");
  }, 60_000);
});

describe("the dependency rules (npm run depcheck)", () => {
  const depcruise = (dir: string) => tool("depcruise", ["src", "--config", ".dependency-cruiser.cjs"], dir);

  it("pass a tree that follows the module map", async () => {
    const dir = await scratch(
      {
        "src/base/assert.ts": "export const ok = true;\n",
        "src/raft/raft.ts": 'import { ok } from "../base/assert.js";\nexport const r = ok;\n',
        "src/raft/index.ts": 'export { r } from "./raft.js";\n',
        "src/node/node.ts": 'import { r } from "../raft/index.js";\nexport const n = r;\n',
      },
      "depcruise",
    );
    const result = await depcruise(dir);
    expect(result.code, result.output).toBe(0);
  }, 60_000);

  it.each([
    [
      "a module outside the Raft core reaching past its index",
      {
        "src/raft/raft.ts": "export const r = 1;\n",
        "src/node/n.ts": 'import { r } from "../raft/raft.js";\nexport const n = r;\n',
      },
      "raft-through-its-index",
    ],
    [
      "a pure core importing node:",
      { "src/raft/raft.ts": 'import { readFile } from "node:fs";\nexport const r = readFile;\n' },
      "pure-cores-no-io",
    ],
    [
      "raft importing the ledger",
      {
        "src/ledger/core.ts": "export const l = 1;\n",
        "src/raft/raft.ts": 'import { l } from "../ledger/core.js";\nexport const r = l;\n',
      },
      "raft-and-ledger-apart",
    ],
    [
      "the node importing the gateway",
      {
        "src/gateway/g.ts": "export const g = 1;\n",
        "src/node/n.ts": 'import { g } from "../gateway/g.js";\nexport const n = g;\n',
      },
      "node-not-gateway",
    ],
    [
      "a cycle through types",
      {
        "src/node/a.ts": 'import type { B } from "./b.js";\nexport type A = { b?: B };\n',
        "src/node/b.ts": 'import type { A } from "./a.js";\nexport type B = { a?: A };\n',
      },
      "no-cycles",
    ],
  ])(
    "fail on %s, naming the rule",
    async (_what, files, rule) => {
      const result = await depcruise(await scratch(files, "depcruise"));
      expect(result.code).not.toBe(0);
      expect(result.output).toContain(rule);
    },
    60_000,
  );
});
