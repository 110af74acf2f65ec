// The dev CLI run in the test's own process (no tsx start-up), its output collected as lines.

import { Writable } from "node:stream";
import { runDev } from "../../tools/dev/program.js";

export interface DevRun {
  code: number;
  stdout: string[];
  stderr: string[];
}

export async function devInProcess(args: string[]): Promise<DevRun> {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (chunks: string[]): Writable =>
    new Writable({
      write(chunk: Buffer | string, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
  const code = await runDev(["node", "dev", ...args], { stdout: sink(out), stderr: sink(err) });
  const lines = (chunks: string[]): string[] =>
    chunks
      .join("")
      .split("\n")
      .filter((l) => l !== "");
  return { code, stdout: lines(out), stderr: lines(err) };
}
