// A small reader of the Prometheus text exposition format for tests: sample lines
// `name{label="value",...} value` and `# TYPE name type` lines; anything else fails loudly, so a
// malformed exposition fails the test that reads it.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** Declared type of each metric family (counter, gauge, histogram, ...). */
  types: Map<string, string>;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const labelPair = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/;

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const [i, line] of text.split("\n").entries()) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (type?.[1] !== undefined && type[2] !== undefined) types.set(type[1], type[2]);
      else if (!line.startsWith("# HELP ")) throw new Error(`line ${i + 1}: not a HELP or TYPE comment: ${line}`);
      continue;
    }
    const m = sampleLine.exec(line);
    if (m?.[1] === undefined || m[3] === undefined) throw new Error(`line ${i + 1}: not a sample: ${line}`);
    samples.push({ name: m[1], labels: parseLabels(m[2] ?? "", i + 1), value: parseValue(m[3], i + 1) });
  }
  return { samples, types };
}

function parseLabels(text: string, lineNo: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest !== "") {
    const m = labelPair.exec(rest);
    if (m?.[1] === undefined || m[2] === undefined) throw new Error(`line ${lineNo}: bad labels: {${text}}`);
    labels[m[1]] = m[2].replace(/\\(.)/g, (_all, c: string) => (c === "n" ? "\n" : c));
    rest = rest.slice(m[0].length);
  }
  return labels;
}

function parseValue(text: string, lineNo: number): number {
  // Prometheus reads these case-insensitively (prom-client writes an empty event-loop-lag mean as "Nan").
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  const v = Number(text);
  if (text === "" || Number.isNaN(v)) throw new Error(`line ${lineNo}: bad value: ${text}`);
  return v;
}

/** The samples named `name` whose labels include `labels`. */
export function samplesOf(e: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample named `name` with exactly these labels; fails if there is none. */
export function sampleValue(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.keys(labels).length;
  const found = samplesOf(e, name, labels).filter((s) => Object.keys(s.labels).length === wanted);
  if (found.length !== 1)
    throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${found.length}`);
  return (found[0] as Sample).value;
}
