// The strict wire check (src/transport/wire-check.ts) over a table of encodings: well-formed ones
// (every wire type, packed and unpacked repeated fields, maps, nested and recursive messages,
// groups, unknown fields of every wire type) pass; malformed ones are refused with a sentence
// naming the field's path. The schema is built here from a descriptor so that it has every
// field kind, proto2 groups included, which none of our own protos has.

import { create, createFileRegistry, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { requestNestingMax, unknownGroupNestingMax, wirePathSegmentsShownMax } from "../../src/transport/limits.js";
import { CreateTransactionRequestSchema, CreateTransactionsRequestSchema } from "../../src/gen/ledger/v1/ledger_pb.js";
import { checkWire } from "../../src/transport/wire-check.js";

/** test.Probe: one field of every kind (proto2, so a group can be declared). */
function probeSchema(): DescMessage {
  const field = (name: string, number: number, type: Type, extra: Record<string, unknown> = {}) => ({
    name,
    number,
    type,
    label: Label.OPTIONAL,
    ...extra,
  });
  const repeated = { label: Label.REPEATED };
  const file = create(FileDescriptorProtoSchema, {
    name: "probe.proto",
    package: "test",
    syntax: "proto2",
    enumType: [
      {
        name: "Color",
        value: [
          { name: "RED", number: 0 },
          { name: "BLUE", number: 1 },
        ],
      },
    ],
    messageType: [
      {
        name: "Probe",
        field: [
          field("i32", 1, Type.INT32),
          field("i64", 2, Type.INT64),
          field("u32", 3, Type.UINT32),
          field("s64", 4, Type.SINT64),
          field("flag", 5, Type.BOOL),
          field("f32", 6, Type.FIXED32),
          field("f64", 7, Type.FIXED64),
          field("sf32", 8, Type.SFIXED32),
          field("sf64", 9, Type.SFIXED64),
          field("flt", 10, Type.FLOAT),
          field("dbl", 11, Type.DOUBLE),
          field("text", 12, Type.STRING),
          field("data", 13, Type.BYTES),
          field("color", 14, Type.ENUM, { typeName: ".test.Color" }),
          field("child", 15, Type.MESSAGE, { typeName: ".test.Probe" }),
          field("children", 16, Type.MESSAGE, { typeName: ".test.Probe", ...repeated }),
          field("nums", 17, Type.INT32, repeated),
          field("fixed_nums", 18, Type.FIXED64, { ...repeated, options: { packed: true } }),
          field("colors", 19, Type.ENUM, { typeName: ".test.Color", ...repeated }),
          field("by_name", 20, Type.MESSAGE, { typeName: ".test.Probe.ByNameEntry", ...repeated }),
          field("labels", 21, Type.MESSAGE, { typeName: ".test.Probe.LabelsEntry", ...repeated }),
          field("grp", 22, Type.GROUP, { typeName: ".test.Probe.Grp" }),
          field("texts", 23, Type.STRING, repeated),
          field("floats", 24, Type.FLOAT, repeated),
        ],
        nestedType: [
          {
            name: "ByNameEntry",
            options: { mapEntry: true },
            field: [field("key", 1, Type.STRING), field("value", 2, Type.MESSAGE, { typeName: ".test.Probe" })],
          },
          {
            name: "LabelsEntry",
            options: { mapEntry: true },
            field: [field("key", 1, Type.INT32), field("value", 2, Type.STRING)],
          },
          { name: "Grp", field: [field("a", 1, Type.INT32)] },
        ],
      },
    ],
  });
  const probe = createFileRegistry(file, () => undefined).getMessage("test.Probe");
  if (probe === undefined) throw new Error("test.Probe did not build");
  return probe;
}

const Probe = probeSchema();

/** Bytes from a writer script. */
function wire(write: (w: BinaryWriter) => unknown): Uint8Array {
  const w = new BinaryWriter();
  write(w);
  return w.finish();
}

const bytes = (...b: number[]) => Uint8Array.from(b);
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
/** A LEN field whose contents are `inner`. */
const len = (no: number, inner: Uint8Array) => wire((w) => w.tag(no, WireType.LengthDelimited).bytes(inner));

const wellFormed: [string, Uint8Array][] = [
  ["the empty message", bytes()],
  [
    "every scalar with its own wire type",
    wire((w) =>
      w
        .tag(1, WireType.Varint)
        .int32(-1)
        .tag(2, WireType.Varint)
        .int64(-5n)
        .tag(3, WireType.Varint)
        .uint32(7)
        .tag(4, WireType.Varint)
        .sint64(-9n)
        .tag(5, WireType.Varint)
        .bool(true)
        .tag(6, WireType.Bit32)
        .fixed32(1)
        .tag(7, WireType.Bit64)
        .fixed64(2n)
        .tag(8, WireType.Bit32)
        .sfixed32(-3)
        .tag(9, WireType.Bit64)
        .sfixed64(-4n)
        .tag(10, WireType.Bit32)
        .float(1.5)
        .tag(11, WireType.Bit64)
        .double(2.5)
        .tag(12, WireType.LengthDelimited)
        .string("héllo")
        .tag(13, WireType.LengthDelimited)
        .bytes(bytes(0, 255))
        .tag(14, WireType.Varint)
        .int32(1),
    ),
  ],
  ["a 10-byte varint (a negative int32)", wire((w) => w.tag(1, WireType.Varint).int32(-2147483648))],
  ["the largest uint64", wire((w) => w.tag(2, WireType.Varint).uint64(18446744073709551615n))],
  ["an unknown enum value (open to any varint)", wire((w) => w.tag(14, WireType.Varint).int32(99))],
  ["repeated int32 unpacked", wire((w) => w.tag(17, WireType.Varint).int32(1).tag(17, WireType.Varint).int32(-1))],
  [
    "repeated int32 packed",
    wire((w) => w.tag(17, WireType.LengthDelimited).fork().int32(1).int32(300).int32(-1).join()),
  ],
  [
    "repeated fixed64 packed and unpacked",
    wire((w) =>
      w.tag(18, WireType.LengthDelimited).fork().fixed64(1n).fixed64(2n).join().tag(18, WireType.Bit64).fixed64(3n),
    ),
  ],
  ["repeated float packed", wire((w) => w.tag(24, WireType.LengthDelimited).fork().float(1).float(2).join())],
  [
    "repeated enum packed and unpacked",
    wire((w) => w.tag(19, WireType.LengthDelimited).fork().int32(0).int32(1).join().tag(19, WireType.Varint).int32(1)),
  ],
  ["an empty packed list", wire((w) => w.tag(17, WireType.LengthDelimited).bytes(bytes()))],
  [
    "repeated strings",
    wire((w) => w.tag(23, WireType.LengthDelimited).string("a").tag(23, WireType.LengthDelimited).string("")),
  ],
  [
    "a nested message",
    len(
      15,
      wire((w) => w.tag(12, WireType.LengthDelimited).string("inner")),
    ),
  ],
  ["an empty nested message", len(15, bytes())],
  [
    "repeated messages",
    concat(
      len(
        16,
        wire((w) => w.tag(1, WireType.Varint).int32(1)),
      ),
      len(16, bytes()),
      len(16, len(15, bytes())),
    ),
  ],
  [
    "a map of string to message",
    len(
      20,
      concat(
        wire((w) => w.tag(1, WireType.LengthDelimited).string("k")),
        len(
          2,
          wire((w) => w.tag(5, WireType.Varint).bool(true)),
        ),
      ),
    ),
  ],
  [
    "a map of int32 to string, value before key",
    len(
      21,
      wire((w) => w.tag(2, WireType.LengthDelimited).string("v").tag(1, WireType.Varint).int32(3)),
    ),
  ],
  ["an empty map entry", len(21, bytes())],
  [
    "a group field",
    wire((w) => w.tag(22, WireType.StartGroup).tag(1, WireType.Varint).int32(5).tag(22, WireType.EndGroup)),
  ],
  [
    "unknown fields of every wire type",
    wire((w) =>
      w
        .tag(100, WireType.Varint)
        .uint64(1n)
        .tag(101, WireType.Bit64)
        .fixed64(1n)
        .tag(102, WireType.LengthDelimited)
        .bytes(bytes(1, 2))
        .tag(103, WireType.StartGroup)
        .tag(1, WireType.Varint)
        .int32(1)
        .tag(1, WireType.LengthDelimited)
        .bytes(bytes(9))
        .tag(103, WireType.EndGroup)
        .tag(104, WireType.Bit32)
        .fixed32(1),
    ),
  ],
  [
    "unknown groups nested to the limit",
    wire((w) => {
      for (let i = 0; i < unknownGroupNestingMax; i++) w.tag(200, WireType.StartGroup);
      for (let i = 0; i < unknownGroupNestingMax; i++) w.tag(200, WireType.EndGroup);
    }),
  ],
  [
    "an unknown field inside a nested message and a group",
    concat(
      len(
        15,
        wire((w) => w.tag(300, WireType.Bit32).fixed32(1)),
      ),
      wire((w) => w.tag(22, WireType.StartGroup).tag(9, WireType.Bit64).fixed64(0n).tag(22, WireType.EndGroup)),
    ),
  ],
  ["the largest field number", wire((w) => w.tag(2 ** 29 - 1, WireType.Varint).int32(1))],
  ["messages nested to requestNestingMax", nestedChildren(requestNestingMax - 1)],
];

/** `depth` levels of child messages below the root (the root counts as level 1). */
function nestedChildren(depth: number): Uint8Array {
  let inner: Uint8Array = bytes();
  for (let i = 0; i < depth; i++) inner = len(15, inner);
  return inner;
}

const malformed: [string, Uint8Array, string][] = [
  [
    "a bool sent as LEN",
    wire((w) => w.tag(5, WireType.LengthDelimited).bytes(bytes(1))),
    "flag has wire type LEN, expected VARINT",
  ],
  [
    "a string sent as VARINT",
    wire((w) => w.tag(12, WireType.Varint).int32(1)),
    "text has wire type VARINT, expected LEN",
  ],
  ["a fixed32 sent as I64", wire((w) => w.tag(6, WireType.Bit64).fixed64(1n)), "f32 has wire type I64, expected I32"],
  [
    "a double sent as VARINT",
    wire((w) => w.tag(11, WireType.Varint).int32(1)),
    "dbl has wire type VARINT, expected I64",
  ],
  [
    "a message sent as a group",
    wire((w) => w.tag(15, WireType.StartGroup).tag(15, WireType.EndGroup)),
    "child has wire type SGROUP, expected LEN",
  ],
  ["a group sent as LEN", len(22, bytes()), "grp has wire type LEN, expected SGROUP"],
  [
    "a repeated int32 sent as I32",
    wire((w) => w.tag(17, WireType.Bit32).fixed32(1)),
    "nums has wire type I32, expected VARINT or LEN (packed)",
  ],
  [
    "a repeated string sent as VARINT",
    wire((w) => w.tag(23, WireType.Varint).int32(1)),
    "texts has wire type VARINT, expected LEN",
  ],
  [
    "a nested field with the wrong wire type",
    concat(
      len(16, bytes()),
      len(
        16,
        len(
          15,
          wire((w) => w.tag(5, WireType.LengthDelimited).bytes(bytes(1))),
        ),
      ),
    ),
    "children[1].child.flag has wire type LEN, expected VARINT",
  ],
  [
    "a map key with the wrong wire type",
    concat(
      len(21, bytes()),
      len(
        21,
        wire((w) => w.tag(1, WireType.LengthDelimited).string("x")),
      ),
    ),
    "labels[1].key has wire type LEN, expected VARINT",
  ],
  [
    "a map value message with a bad field",
    len(
      20,
      len(
        2,
        wire((w) => w.tag(12, WireType.Varint).int32(0)),
      ),
    ),
    "by_name[0].value.text has wire type VARINT, expected LEN",
  ],
  [
    "a field in a group with the wrong wire type",
    wire((w) => w.tag(22, WireType.StartGroup).tag(1, WireType.Bit64).fixed64(0n).tag(22, WireType.EndGroup)),
    "grp.a has wire type I64, expected VARINT",
  ],
  [
    "a length prefix above 2^32-1",
    concat(bytes(0x62), bytes(0x83, 0x80, 0x80, 0x80, 0x10), bytes(0x61, 0x62, 0x63)),
    "text has a length of 4294967299 bytes, more than 2^32-1",
  ],
  ["a length past the end", concat(bytes(0x62, 0x09), bytes(0x61)), "text has a length of 9 bytes, but only 1 remain"],
  [
    "a length past the end of its nested message",
    len(15, bytes(0x62, 0x05, 0x61)),
    "child.text has a length of 5 bytes, but only 1 remain",
  ],
  [
    "a nested message's field running past its end",
    concat(bytes(0x7a, 0x02, 0x08), bytes(0x96, 0x01)),
    "child.i32 ends inside its value (a varint at byte 3)",
  ],
  [
    "a varint of 11 bytes",
    concat(bytes(0x08), new Uint8Array(10).fill(0x80), bytes(0x00)),
    "i32 has its value as a varint longer than 10 bytes (at byte 1)",
  ],
  [
    "a 10-byte varint beyond 64 bits",
    concat(bytes(0x08), new Uint8Array(9).fill(0xff), bytes(0x02)),
    "i32 has its value as a varint beyond 64 bits (at byte 1)",
  ],
  ["a cut-off varint", bytes(0x08, 0x80), "i32 ends inside its value (a varint at byte 1)"],
  ["a cut-off fixed32", bytes(0x35, 1, 2, 3), "f32 is cut off: its I32 value needs 4 bytes, 3 remain"],
  ["a cut-off fixed64", bytes(0x39, 1, 2, 3, 4, 5, 6, 7), "f64 is cut off: its I64 value needs 8 bytes, 7 remain"],
  ["a cut-off unknown fixed64", bytes(0xa1, 0x06, 1), "field 100 is cut off: its I64 value needs 8 bytes, 1 remain"],
  [
    "packed fixed64 not a multiple of 8",
    wire((w) => w.tag(18, WireType.LengthDelimited).bytes(new Uint8Array(12))),
    "fixed_nums has packed I64 values of 12 bytes, not a multiple of 8",
  ],
  [
    "packed varints cut off",
    wire((w) => w.tag(17, WireType.LengthDelimited).bytes(bytes(0x01, 0x80))),
    "nums ends inside its packed values (a varint at byte 4)",
  ],
  ["a cut-off tag", bytes(0xff, 0xff, 0xff), "the message ends inside a tag (a varint at byte 0)"],
  [
    "a tag of 6 bytes",
    bytes(0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00),
    "the message has a tag of more than 5 bytes at byte 0",
  ],
  ["a tag beyond 32 bits", bytes(0x80, 0x80, 0x80, 0x80, 0x10, 0x00), "the message has a tag beyond 32 bits at byte 0"],
  ["field number 0", bytes(0x00, 0x01), "the message has a tag with field number 0 at byte 0"],
  ["wire type 6", bytes(0x0e, 0x01), "field 1 has wire type 6, which does not exist (at byte 0)"],
  [
    "wire type 7 in a nested message",
    len(15, bytes(0x0f)),
    "field 1 of child has wire type 7, which does not exist (at byte 2)",
  ],
  [
    "an end-group with no start",
    bytes(0x0c),
    "the message has an end-group tag of field 1 at byte 0 with no start-group",
  ],
  [
    "an end-group of another field",
    wire((w) => w.tag(200, WireType.StartGroup).tag(201, WireType.EndGroup)),
    "field 200 has an end-group tag of field 201 at byte 2 with no start-group",
  ],
  [
    "an end-group inside a nested message",
    len(
      15,
      wire((w) => w.tag(200, WireType.EndGroup)),
    ),
    "child has an end-group tag of field 200 at byte 2 with no start-group",
  ],
  [
    "a group left open at the end of its nested message",
    concat(
      len(
        15,
        wire((w) => w.tag(200, WireType.StartGroup)),
      ),
      wire((w) => w.tag(200, WireType.EndGroup)),
    ),
    "child.field 200 is a group with no end-group tag",
  ],
  [
    "a group with no end",
    wire((w) => w.tag(200, WireType.StartGroup).tag(1, WireType.Varint).int32(1)),
    "field 200 is a group with no end-group tag",
  ],
  ["a known group with no end", wire((w) => w.tag(22, WireType.StartGroup)), "grp is a group with no end-group tag"],
  [
    "unknown groups nested past the limit",
    wire((w) => {
      for (let i = 0; i <= unknownGroupNestingMax; i++) w.tag(200, WireType.StartGroup);
    }),
    `field 200 of …${Array.from({ length: wirePathSegmentsShownMax }, () => "field 200").join(".")} nests unknown groups deeper than ${unknownGroupNestingMax}`,
  ],
  [
    "messages nested past requestNestingMax",
    nestedChildren(requestNestingMax),
    `…${Array.from({ length: wirePathSegmentsShownMax }, () => "child").join(".")}.child nests messages deeper than ${requestNestingMax}`,
  ],
  [
    "a cut-off field in unknown groups",
    wire((w) => w.tag(200, WireType.StartGroup).tag(201, WireType.StartGroup).tag(9, WireType.Bit32)),
    "field 9 of field 200.field 201 is cut off: its I32 value needs 4 bytes, 0 remain",
  ],
];

describe("checkWire", () => {
  it.each(wellFormed)("accepts %s", (_name, encoded) => {
    expect(checkWire(Probe, encoded)).toBeUndefined();
    // protobuf-es decodes what passes (the check is never stricter than framing requires).
    expect(() => fromBinary(Probe, encoded)).not.toThrow();
  });

  it.each(malformed)("refuses %s", (_name, encoded, why) => {
    expect(checkWire(Probe, encoded)).toBe(why);
  });

  it("accepts what protobuf-es encodes: a full CreateTransactionsRequest", () => {
    const item = { accountId: "0123456789abcdef", amount: -5n, description: "é", settled: true, requestId: "r" };
    const request = create(CreateTransactionsRequestSchema, {
      transactions: [item, item, item].map((i) => create(CreateTransactionRequestSchema, i)),
    });
    expect(
      checkWire(CreateTransactionsRequestSchema, toBinary(CreateTransactionsRequestSchema, request)),
    ).toBeUndefined();
  });

  it("names the item of a batch whose settled is sent as LEN", () => {
    const good = toBinary(
      CreateTransactionRequestSchema,
      create(CreateTransactionRequestSchema, { accountId: "0123456789abcdef", amount: 1n }),
    );
    const bad = concat(
      good,
      wire((w) => w.tag(4, WireType.LengthDelimited).bytes(bytes(0x38, 0x00))),
    );
    const batch = concat(len(1, good), len(1, good), len(1, bad));
    expect(checkWire(CreateTransactionsRequestSchema, batch)).toBe(
      "transactions[2].settled has wire type LEN, expected VARINT",
    );
  });

  it("walks 100,000 nested start-group tags without recursion and refuses them", () => {
    const run = new Uint8Array(100_000).fill(0x0b); // field 1, SGROUP
    expect(checkWire(CreateTransactionsRequestSchema, run)).toBe("transactions has wire type SGROUP, expected LEN");
    const unknown = new Uint8Array(200_000);
    for (let i = 0; i < unknown.length; i += 2) unknown.set([0xfb, 0x07], i); // field 127, SGROUP
    const why = checkWire(CreateTransactionsRequestSchema, unknown);
    expect(why).toMatch(
      new RegExp(`^field 127 of …field 127(\\.field 127)+ nests unknown groups deeper than ${unknownGroupNestingMax}$`),
    );
    expect(why!.length).toBeLessThan(200);
  });
});
