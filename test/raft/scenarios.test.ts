// Runs every data-driven Raft scenario in test/testdata/raft/*.txt: each command's output must
// equal the expected block. REWRITE_RAFT_TESTDATA=1 writes the actual output back for review.

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDataDriven, renderDataDriven } from "./support/datadriven.js";
import { InteractionEnv } from "./support/interaction-env.js";

const dir = join(import.meta.dirname, "..", "testdata", "raft");
const rewrite = process.env.REWRITE_RAFT_TESTDATA === "1";
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".txt"))
  .sort();

describe("raft scenarios", () => {
  it("has at least 15 scenario files", () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  for (const file of files) {
    it(file, () => {
      const path = join(dir, file);
      const parsed = parseDataDriven(readFileSync(path, "utf8"));
      const env = new InteractionEnv();
      const outputs: string[] = [];
      for (const c of parsed.cases) {
        const actual = env.run(c.command);
        outputs.push(actual);
        if (!rewrite) expect(actual, `${file}:${c.line}: ${c.command}`).toBe(c.expected);
      }
      if (rewrite) writeFileSync(path, renderDataDriven(parsed, outputs));
    });
  }
});
