// One-line human-readable renderings of Raft values, for log lines, scenario test output and
// simulator traces, e.g. `1->2 Append term=2 log=1/5 commit=5 entries=[2/6 "foo"]`.

import { decodeConfChange, describeConfChange } from "./conf-change.js";
import { EntryType, MessageType } from "./types.js";
import type { Entry, HardState, Message, Snapshot, SoftState } from "./types.js";

/** Longest payload shown in full; longer ones are abbreviated with their byte count. */
const describeDataCharsMax = 24;

export function describeData(data: Uint8Array): string {
  let printable = true;
  for (let i = 0; i < data.length; i++) {
    const c = data[i] ?? 0;
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      printable = false;
      break;
    }
  }
  const shown = Math.min(data.length, describeDataCharsMax);
  let body = "";
  if (printable) {
    for (let i = 0; i < shown; i++) body += String.fromCharCode(data[i] ?? 0);
    body = `"${body}"`;
  } else {
    for (let i = 0; i < shown; i++) body += (data[i] ?? 0).toString(16).padStart(2, "0");
    body = `0x${body}`;
  }
  return data.length > shown ? `${body}...(${data.length} bytes)` : body;
}

export function describeEntry(e: Entry): string {
  if (e.type === EntryType.ConfChange) {
    const cc = decodeConfChange(e.data);
    return `${e.term}/${e.index} conf ${typeof cc === "string" ? describeData(e.data) : describeConfChange(cc)}`;
  }
  return `${e.term}/${e.index} ${describeData(e.data)}`;
}

export function describeEntries(ents: readonly Entry[]): string {
  return `[${ents.map(describeEntry).join(", ")}]`;
}

export function describeHardState(hs: HardState): string {
  return `term=${hs.term} vote=${hs.vote} commit=${hs.commit}`;
}

export function describeSoftState(ss: SoftState): string {
  return `${ss.role} lead=${ss.leader}`;
}

export function describeSnapshot(s: Snapshot): string {
  const cs = s.metadata.confState;
  const learners = cs.learners.length > 0 ? ` learners=(${cs.learners.join(" ")})` : "";
  return `${s.metadata.term}/${s.metadata.index} voters=(${cs.voters.join(" ")})${learners} data=${describeData(s.data)}`;
}

function ctx(m: Message): string {
  return m.context.length > 0 ? ` ctx=${describeData(m.context)}` : "";
}

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${MessageType[m.type]} term=${m.term}`;
  switch (m.type) {
    case MessageType.Append:
      return `${head} log=${m.logTerm}/${m.index} commit=${m.commit} entries=${describeEntries(m.entries)}`;
    case MessageType.AppendResponse:
      return m.reject
        ? `${head} rejected index=${m.index} hint=${m.hintTerm}/${m.rejectHint}`
        : `${head} index=${m.index}`;
    case MessageType.Vote:
    case MessageType.PreVote:
      return `${head} log=${m.logTerm}/${m.index}${m.context.length > 0 ? " transfer" : ""}`;
    case MessageType.VoteResponse:
    case MessageType.PreVoteResponse:
      return `${head} ${m.reject ? "rejected" : "granted"}`;
    case MessageType.Heartbeat:
      return `${head} commit=${m.commit}${ctx(m)}`;
    case MessageType.HeartbeatResponse:
      return `${head}${ctx(m)}`;
    case MessageType.Snapshot:
      return `${head} snapshot=${m.snapshot === undefined ? "none" : describeSnapshot(m.snapshot)}`;
    case MessageType.TimeoutNow:
      return head;
    case MessageType.ReadIndex:
      return `${head}${ctx(m)}`;
    case MessageType.ReadIndexResponse:
      return `${head} index=${m.index}${ctx(m)}`;
    case MessageType.TransferLeader:
      return `${head} transferee=${m.index}`;
  }
}
