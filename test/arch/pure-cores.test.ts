// The pure cores (src/raft, src/ledger) must stay free of I/O, clocks and randomness so they
// can be tested to exhaustion and replayed deterministically (DESIGN.md §3, §5, §6).

import { readFileSync, readdirSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const pattern =
    /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
  for (const m of source.matchAll(pattern)) specifiers.push((m[1] ?? m[2] ?? m[3])!);
  return specifiers;
}

const builtins = new Set(builtinModules);
/** Relative targets a pure core may reach besides its own folder. */
const allowedDirs = ["src/base/assert.ts", "src/base/prng.ts", "src/base/errors.ts", "src/base/limits.ts", "src/gen/"];
const allowedPackages = ["@bufbuild/protobuf"];
const forbiddenCalls = [
  /\bDate\.now\b/,
  /\bnew Date\b/,
  /\bMath\.random\b/,
  /\bsetTimeout\b/,
  /\bsetInterval\b/,
  /\bsetImmediate\b/,
  /\bperformance\./,
  /\bprocess\./,
  /\brequire\(/,
];

/** Problems with one file of a pure core; exported shape kept simple so it can be tested. */
export function violations(file: string, source: string, core: string): string[] {
  const problems: string[] = [];
  for (const spec of importsOf(source)) {
    if (spec.startsWith(".")) {
      const target = relative(root, resolve(dirname(file), spec)).replace(/\.js$/, ".ts");
      const ok =
        target.startsWith(`${core}/`) ||
        allowedDirs.some((a) => (a.endsWith("/") ? target.startsWith(a) : target === a));
      if (!ok) problems.push(`imports ${spec} (${target}), outside ${core} and the allowed base/gen modules`);
    } else if (spec.startsWith("node:") || builtins.has(spec)) {
      problems.push(`imports the Node.js module ${spec}`);
    } else if (!allowedPackages.some((p) => spec === p || spec.startsWith(`${p}/`))) {
      problems.push(`imports the package ${spec}`);
    }
  }
  const code = source.replace(/\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
  for (const re of forbiddenCalls) if (re.test(code)) problems.push(`uses ${re.source.replace(/\\b|\\/g, "")}`);
  return problems;
}

describe("pure cores import no I/O, clock or randomness", () => {
  for (const core of ["src/raft", "src/ledger"]) {
    it(`${core} imports no node:*, LevelDB, gRPC or logger and reads no clock`, () => {
      const files = tsFiles(join(root, core));
      expect(files.length).toBeGreaterThan(0);
      const found = files.flatMap((f) =>
        violations(f, readFileSync(f, "utf8"), core).map((p) => `${relative(root, f)}: ${p}`),
      );
      expect(found).toEqual([]);
    });
  }

  it("the scan catches forbidden imports and calls (it can fail)", () => {
    const file = join(root, "src/raft/x.ts");
    const bad = [
      `import { readFileSync } from "node:fs";`,
      `import { ClassicLevel } from "classic-level";`,
      `import * as grpc from "@grpc/grpc-js";`,
      `import { createLogger } from "../base/logger.js";`,
      `import crypto from "crypto";`,
      `const t = Date.now();`,
      `const r = Math.random();`,
    ].join("\n");
    expect(violations(file, bad, "src/raft")).toHaveLength(7);
    const good = `import type { Prng } from "../base/prng.js";\nimport { create } from "@bufbuild/protobuf";\n// Date.now is mentioned only in a comment\n`;
    expect(violations(file, good, "src/raft")).toEqual([]);
  });
});
