// A small data-driven test format (after etcd's datadriven): each case is one command line,
// a `----` line, and the expected output up to the next blank line. Lines starting with `#`
// and blank lines between cases are comments and are kept when the file is rewritten.
//
//   campaign 1
//   ----
//   INFO 1 became candidate at term 1
//
// With REWRITE_RAFT_TESTDATA=1 the runner writes the actual output back into the file.

export interface Case {
  /** Comment and blank lines preceding the command, kept verbatim on rewrite. */
  preamble: string[];
  command: string;
  expected: string;
  /** 1-based line of the command, for failure messages. */
  line: number;
}

export interface ParsedFile {
  cases: Case[];
  /** Comment lines after the last case. */
  trailer: string[];
}

export function parseDataDriven(text: string): ParsedFile {
  const lines = text.split("\n");
  const cases: Case[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    if (line.trim() === "" || line.startsWith("#")) {
      preamble.push(line);
      i++;
      continue;
    }
    const command = line;
    const at = i + 1;
    i++;
    if ((lines[i] ?? "") !== "----") throw new Error(`line ${at}: expected ---- after command "${command}"`);
    i++;
    const out: string[] = [];
    while (i < lines.length && (lines[i] ?? "") !== "") {
      out.push(lines[i] ?? "");
      i++;
    }
    cases.push({ preamble, command, expected: out.join("\n"), line: at });
    preamble = [];
  }
  // Drop the trailing empty string produced by a final newline.
  while (preamble.length > 0 && preamble[preamble.length - 1] === "") preamble.pop();
  return { cases, trailer: preamble };
}

export function renderDataDriven(file: ParsedFile, outputs: string[]): string {
  const parts: string[] = [];
  file.cases.forEach((c, k) => {
    // Normalise separation: exactly one blank line between a case's output and what follows.
    const pre = c.preamble.slice();
    while (pre.length > 0 && pre[0] === "") pre.shift();
    if (pre.length > 0) parts.push(...pre);
    parts.push(c.command, "----", outputs[k] ?? "", "");
  });
  if (file.trailer.length > 0) parts.push(...file.trailer);
  return `${parts.join("\n").replace(/\n+$/, "")}\n`;
}

/** Splits a command line into words; `key=(a b c)` stays one word. */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  let cur = "";
  let depth = 0;
  for (const ch of line) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (/\s/.test(ch) && depth === 0) {
      if (cur !== "") words.push(cur);
      cur = "";
    } else {
      cur += ch;
    }
  }
  if (cur !== "") words.push(cur);
  return words;
}

export interface Args {
  positional: string[];
  named: Map<string, string>;
}

export function parseArgs(words: readonly string[]): Args {
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq > 0) named.set(w.slice(0, eq), w.slice(eq + 1));
    else positional.push(w);
  }
  return { positional, named };
}

/** `(1 2 3)` or `3` as numbers. */
export function parseIdList(v: string): number[] {
  return v
    .replace(/[()]/g, " ")
    .split(/\s+/)
    .filter((s) => s !== "")
    .map((s) => {
      const n = Number(s);
      if (!Number.isSafeInteger(n)) throw new Error(`not an id: ${s}`);
      return n;
    });
}
