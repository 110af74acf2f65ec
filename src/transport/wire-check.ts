// A strict check of a request's protobuf wire format against its schema, run before decoding.
// protobuf-es reads a known field by its declared type whatever its wire type (a bool sent as
// length-delimited bytes reads as true, where other languages' decoders keep it as an unknown
// field) and truncates a length prefix to 32 bits; other decoders (protobufjs) throw on junk in
// ways grpc-js reports as INTERNAL. This walk refuses, with a sentence naming the field's path
// ("transactions[2].settled has wire type LEN, expected VARINT"):
// - a known field whose wire type is not its declared type's (repeated numeric scalars and enums
//   may come packed, as LEN, or one by one);
// - a varint longer than 10 bytes or beyond 64 bits, a tag beyond 32 bits, field number 0,
//   wire types 6 and 7;
// - a length prefix above 2^32-1 or past the end of its message, a cut-off fixed32/fixed64,
//   packed values that do not fill their length exactly;
// - an end-group without its start-group, a group without its end;
// - messages nested deeper than requestNestingMax, unknown groups deeper than
//   unknownGroupNestingMax.
// Unknown fields of every wire type are accepted (and checked for their framing). Strings are
// not checked for UTF-8 here: grpc-service.ts does that to name each bad field.
//
// It runs on every request, so it is one loop over an explicit stack (a 100,000-deep run of
// start-group tags costs no recursion), over per-schema tables built once, allocating only a
// frame per nested message.

import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { requestNestingMax, unknownGroupNestingMax, wirePathSegmentsShownMax } from "./limits.js";

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;
const wireTypeNames = ["VARINT", "I64", "LEN", "SGROUP", "EGROUP", "I32"];
/** No packed form. */
const NOT_PACKABLE = -1;

/** What the walk needs of one field. */
class FieldRule {
  private nestedPlan: Plan | undefined;

  constructor(
    readonly name: string,
    /** Repeated or map: a nested element's path gets its index. */
    readonly list: boolean,
    readonly wire: number,
    /** The element wire type of a packed (LEN) encoding, or NOT_PACKABLE. */
    readonly packedWire: number,
    /** The message walked inside a LEN or group field. */
    private readonly message: DescMessage | undefined,
    /** A map entry's own plan (key = 1, value = 2). */
    private readonly entry: Plan | undefined,
  ) {}

  /** The plan of the message this field holds, if it holds one (resolved late: schemas may recurse). */
  get nested(): Plan | undefined {
    if (this.entry !== undefined) return this.entry;
    if (this.message === undefined) return undefined;
    return (this.nestedPlan ??= planOf(this.message));
  }
}

/** A message's fields by number: an array when the numbers are small, else a map. */
class Plan {
  private readonly byIndex: (FieldRule | undefined)[] = [];
  private readonly byNumber = new Map<number, FieldRule>();

  constructor(rules: readonly [number, FieldRule][]) {
    for (const [no, rule] of rules) {
      if (no < denseFieldNumbersMax) this.byIndex[no] = rule;
      else this.byNumber.set(no, rule);
    }
  }

  rule(no: number): FieldRule | undefined {
    return no < denseFieldNumbersMax ? this.byIndex[no] : this.byNumber.get(no);
  }
}

/** Field numbers below this are looked up in an array (schemas number their fields densely from 1). */
const denseFieldNumbersMax = 256;
const plans = new WeakMap<DescMessage, Plan>();

function planOf(schema: DescMessage): Plan {
  let plan = plans.get(schema);
  if (plan === undefined) {
    plan = new Plan(schema.fields.map((f) => [f.number, ruleOf(f)]));
    plans.set(schema, plan);
  }
  return plan;
}

function ruleOf(f: DescField): FieldRule {
  switch (f.fieldKind) {
    case "scalar":
      return new FieldRule(f.name, false, scalarWire(f.scalar), NOT_PACKABLE, undefined, undefined);
    case "enum":
      return new FieldRule(f.name, false, VARINT, NOT_PACKABLE, undefined, undefined);
    case "message":
      return new FieldRule(f.name, false, f.delimitedEncoding ? SGROUP : LEN, NOT_PACKABLE, f.message, undefined);
    case "list":
      if (f.listKind === "message")
        return new FieldRule(f.name, true, f.delimitedEncoding ? SGROUP : LEN, NOT_PACKABLE, f.message, undefined);
      if (f.listKind === "enum") return new FieldRule(f.name, true, VARINT, VARINT, undefined, undefined);
      return scalarWire(f.scalar) === LEN
        ? new FieldRule(f.name, true, LEN, NOT_PACKABLE, undefined, undefined)
        : new FieldRule(f.name, true, scalarWire(f.scalar), scalarWire(f.scalar), undefined, undefined);
    case "map": {
      const key = new FieldRule("key", false, scalarWire(f.mapKey), NOT_PACKABLE, undefined, undefined);
      const value =
        f.mapKind === "message"
          ? new FieldRule("value", false, LEN, NOT_PACKABLE, f.message, undefined)
          : new FieldRule(
              "value",
              false,
              f.mapKind === "enum" ? VARINT : scalarWire(f.scalar),
              NOT_PACKABLE,
              undefined,
              undefined,
            );
      return new FieldRule(
        f.name,
        true,
        LEN,
        NOT_PACKABLE,
        undefined,
        new Plan([
          [1, key],
          [2, value],
        ]),
      );
    }
  }
}

function scalarWire(t: ScalarType): number {
  switch (t) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return I64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return I32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return LEN;
    default:
      return VARINT;
  }
}

/** One message (or group) being walked. */
interface Frame {
  /** undefined: the contents of an unknown group, all of whose fields are unknown. */
  readonly plan: Plan | undefined;
  /** Where a LEN-delimited message ends exactly; for a group, where its enclosing message ends. */
  readonly end: number;
  /** The field number whose end-group closes this frame; 0 for a LEN-delimited message. */
  readonly group: number;
  readonly parent: Frame | undefined;
  /** The field that holds this frame in its parent (undefined: the root, or an unknown field). */
  readonly rule: FieldRule | undefined;
  readonly no: number;
  /** The element's index in its parent, for repeated and map fields. */
  readonly index: number;
  /** Elements seen so far of each repeated message or map field, by field number (made on demand). */
  counts: Map<number, number> | undefined;
}

/**
 * Checks `bytes` against `schema`'s wire format; undefined when they pass, else a sentence that
 * starts with the offending field's path (or "the message" for a problem outside any field).
 */
export function checkWire(schema: DescMessage, bytes: Uint8Array): string | undefined {
  let frame: Frame = {
    plan: planOf(schema),
    end: bytes.length,
    group: 0,
    parent: undefined,
    rule: undefined,
    no: 0,
    index: -1,
    counts: undefined,
  };
  let pos = 0;
  let messageDepth = 1;
  let groupDepth = 0;
  for (;;) {
    if (pos >= frame.end) {
      if (frame.group !== 0) return `${frameName(frame)} is a group with no end-group tag`;
      const parent = frame.parent;
      if (parent === undefined) return undefined;
      messageDepth--;
      frame = parent;
      continue;
    }
    const tagAt = pos;
    pos = scanVarint(bytes, pos, frame.end);
    if (pos < 0) return `${frameName(frame)} ${varintFault(pos, "a tag", tagAt)}`;
    if (pos - tagAt > 5) return `${frameName(frame)} has a tag of more than 5 bytes at byte ${tagAt}`;
    if (scanned > 0xffff_ffff) return `${frameName(frame)} has a tag beyond 32 bits at byte ${tagAt}`;
    const no = scanned >>> 3;
    const wire = scanned & 7;
    if (no === 0) return `${frameName(frame)} has a tag with field number 0 at byte ${tagAt}`;
    if (wire > I32)
      return `${fieldName(frame, undefined, no)} has wire type ${wire}, which does not exist (at byte ${tagAt})`;
    if (wire === EGROUP) {
      if (frame.group !== no)
        return `${frameName(frame)} has an end-group tag of field ${no} at byte ${tagAt} with no start-group`;
      if (frame.plan === undefined) groupDepth--;
      else messageDepth--;
      frame = frame.parent!;
      continue;
    }
    const rule = frame.plan?.rule(no);
    if (rule !== undefined && wire !== rule.wire && !(wire === LEN && rule.packedWire !== NOT_PACKABLE)) {
      const packed = rule.packedWire !== NOT_PACKABLE ? " or LEN (packed)" : "";
      return `${fieldName(frame, rule, no)} has wire type ${wireTypeNames[wire]}, expected ${wireTypeNames[rule.wire]}${packed}`;
    }
    switch (wire) {
      case VARINT: {
        const at = pos;
        pos = scanVarint(bytes, pos, frame.end);
        if (pos < 0) return `${fieldName(frame, rule, no)} ${varintFault(pos, "its value", at)}`;
        break;
      }
      case I64:
      case I32: {
        const size = wire === I64 ? 8 : 4;
        if (frame.end - pos < size)
          return `${fieldName(frame, rule, no)} is cut off: its ${wireTypeNames[wire]} value needs ${size} bytes, ${frame.end - pos} remain`;
        pos += size;
        break;
      }
      case LEN: {
        const at = pos;
        pos = scanVarint(bytes, pos, frame.end);
        if (pos < 0) return `${fieldName(frame, rule, no)} ${varintFault(pos, "its length", at)}`;
        const length = scanned;
        if (length > 0xffff_ffff)
          return `${fieldName(frame, rule, no)} has a length of ${length} bytes, more than 2^32-1`;
        if (length > frame.end - pos)
          return `${fieldName(frame, rule, no)} has a length of ${length} bytes, but only ${frame.end - pos} remain`;
        const nested = rule?.nested;
        if (rule !== undefined && rule.wire !== LEN) {
          const fault = packedFault(bytes, pos, pos + length, rule.packedWire);
          if (fault !== undefined) return `${fieldName(frame, rule, no)} ${fault}`;
        } else if (nested !== undefined) {
          if (++messageDepth > requestNestingMax)
            return `${fieldName(frame, rule, no)} nests messages deeper than ${requestNestingMax}`;
          frame = {
            plan: nested,
            end: pos + length,
            group: 0,
            parent: frame,
            rule,
            no,
            index: nextIndex(frame, rule!, no),
            counts: undefined,
          };
          continue;
        }
        pos += length;
        break;
      }
      case SGROUP: {
        if (rule !== undefined) {
          if (++messageDepth > requestNestingMax)
            return `${fieldName(frame, rule, no)} nests messages deeper than ${requestNestingMax}`;
          frame = {
            plan: rule.nested,
            end: frame.end,
            group: no,
            parent: frame,
            rule,
            no,
            index: nextIndex(frame, rule, no),
            counts: undefined,
          };
        } else {
          if (++groupDepth > unknownGroupNestingMax)
            return `${fieldName(frame, undefined, no)} nests unknown groups deeper than ${unknownGroupNestingMax}`;
          frame = {
            plan: undefined,
            end: frame.end,
            group: no,
            parent: frame,
            rule: undefined,
            no,
            index: -1,
            counts: undefined,
          };
        }
        break;
      }
    }
  }
}

/** The value of the last varint scanVarint read, exact up to 2^53 (enough for tags and lengths). */
let scanned = 0;
const TRUNCATED = -1;
const TOO_LONG = -2;
const OVERFLOW = -3;

/** Reads a varint at `pos` into `scanned`; returns the position after it, or a negative fault. */
function scanVarint(bytes: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let scale = 1;
  for (let n = 1; ; n++) {
    if (pos >= end) return TRUNCATED;
    const b = bytes[pos++]!;
    value += (b & 0x7f) * scale;
    if (n === 10 && b > 1) return b < 0x80 ? OVERFLOW : TOO_LONG;
    if (b < 0x80) {
      scanned = value;
      return pos;
    }
    scale *= 128;
  }
}

function varintFault(fault: number, what: string, at: number): string {
  if (fault === TRUNCATED) return `ends inside ${what} (a varint at byte ${at})`;
  if (fault === TOO_LONG) return `has ${what} as a varint longer than 10 bytes (at byte ${at})`;
  return `has ${what} as a varint beyond 64 bits (at byte ${at})`;
}

/** Why the packed values in bytes[pos, end) do not fill it exactly, if they do not. */
function packedFault(bytes: Uint8Array, pos: number, end: number, wire: number): string | undefined {
  if (wire !== VARINT) {
    const size = wire === I64 ? 8 : 4;
    return (end - pos) % size === 0
      ? undefined
      : `has packed ${wireTypeNames[wire]} values of ${end - pos} bytes, not a multiple of ${size}`;
  }
  while (pos < end) {
    const at = pos;
    pos = scanVarint(bytes, pos, end);
    if (pos < 0) return varintFault(pos, "its packed values", at);
  }
  return undefined;
}

/** The index the next element of a repeated message or map field gets in `frame`. */
function nextIndex(frame: Frame, rule: FieldRule, no: number): number {
  if (!rule.list) return -1;
  frame.counts ??= new Map();
  const index = frame.counts.get(no) ?? 0;
  frame.counts.set(no, index + 1);
  return index;
}

/** The path of the message a frame walks ("transactions[2]"), or "the message" for the root. */
function frameName(frame: Frame): string {
  return framePath(frame) || "the message";
}

/** Segments from the root to `frame`, the last wirePathSegmentsShownMax of them (the depth is
 * bounded, but a hundred "child." would bury the field). */
function framePath(frame: Frame): string {
  const segments: string[] = [];
  let omitted = false;
  for (let f = frame; f.parent !== undefined; f = f.parent) {
    if (segments.length === wirePathSegmentsShownMax) {
      omitted = true;
      break;
    }
    segments.push(f.rule === undefined ? `field ${f.no}` : f.index >= 0 ? `${f.rule.name}[${f.index}]` : f.rule.name);
  }
  const path = segments.reverse().join(".");
  return omitted ? `…${path}` : path;
}

/** A field's path: "transactions[2].settled", or "field 9 of transactions[2]" when unknown. */
function fieldName(frame: Frame, rule: FieldRule | undefined, no: number): string {
  const prefix = framePath(frame);
  if (rule === undefined) return prefix === "" ? `field ${no}` : `field ${no} of ${prefix}`;
  return prefix === "" ? rule.name : `${prefix}.${rule.name}`;
}
