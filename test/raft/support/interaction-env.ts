// A scripted cluster of RawNodes for the data-driven scenario tests. Commands:
//   add-nodes N [seed= pre-vote= check-quorum= election= heartbeat= max-inflight=
//                max-inflight-bytes= max-append-bytes= max-uncommitted= max-term= max-term-jump=]
//   add-nodes N join=true: N new replicas that know the existing ones as the group's voters
//                (not themselves): they wait to be added as learners and caught up
//   propose-conf-change ID add-voter=X | add-learner=X | remove=X | conf ID... (membership)
//   campaign ID... | propose ID DATA | propose-many ID n= [size=] | read-index ID CTX
//   transfer-leadership from= to= | report-unreachable from= to=
//   tick ID... [n=] | tick-all [n=] | process-ready ID... | deliver-msgs [ID...] [drop=(..)] [type=]
//   stabilize [ID...] | partition 1 2 | 3 | heal | crash ID | ready-then-crash ID
//   restart ID [applied= max-term-jump=] | compact ID index= | print-log (raft-log) ID | status ID | raft-state
//   msg-stats (message counts since the last msg-stats) | log-level debug|info|none
//   inject-msg type= from= to= term= [log-term= index= commit= reject= hint= hint-term=
//              entries=(term/index ...) snapshot=term/index snapshot-voters=(..) context=]
//     steps a message no replica sent (a broken or forged peer's) straight into `to`
// It plays the driver for every replica, following the Ready contract exactly: persist
// (snapshot, entries, hardState) into the replica's MemoryStorage, then queue the messages, then
// apply committed entries, then advance. Storage is what survives a crash; everything else is
// lost. Snapshot messages are reported to their sender (ok, or failed when dropped).

import { persistReady } from "./ready-driver.js";
import { seededPrng } from "../../../src/base/prng.js";
import {
  describeEntries,
  describeEntry,
  describeHardState,
  describeMessage,
  describeSnapshot,
  describeSoftState,
  describeData,
} from "../../../src/raft/describe.js";
import { MemoryStorage } from "../../../src/raft/memory-storage.js";
import { newMessage } from "../../../src/raft/messages.js";
import { RawNode } from "../../../src/raft/raw-node.js";
import { EntryType, MessageType, RaftError } from "../../../src/raft/types.js";
import type { ConfState, Message, RaftConfig, RaftLogger, Ready, ReplicaId } from "../../../src/raft/types.js";
import { ConfChangeType, applyConfChangeTo, decodeConfChange } from "../../../src/raft/conf-change.js";
import type { ConfChange } from "../../../src/raft/conf-change.js";
import { parseArgs, parseIdList, tokenize } from "./datadriven.js";
import type { Args } from "./datadriven.js";

type LogLevel = "debug" | "info" | "none";

interface Replica {
  id: ReplicaId;
  storage: MemoryStorage;
  node: RawNode | undefined;
  /** Index the application has applied (its state survives a crash with it). */
  applied: number;
  /** Payloads applied, in order (what the state machine saw). */
  appliedData: string[];
  restarts: number;
  /** The voters it was created with (a restart passes them again). */
  peers: ReplicaId[];
  /** The application's membership after each conf change or snapshot it applied, with the
   * index; the last one is persisted in the storage (setConfState). */
  confHistory: { index: number; cs: ConfState }[];
}

interface Tuning {
  seed: number;
  preVote: boolean;
  checkQuorum: boolean;
  electionTicks: number;
  heartbeatTicks: number;
  maxInflightAppends: number;
  maxInflightBytes: number;
  maxAppendBytes: number;
  maxUncommittedBytes: number;
  maxTerm: number | undefined;
  maxTermJump: number | undefined;
}

const stabilizeRoundsMax = 200; // a scenario that needs more is livelocked
/** Readys one replica may produce in one stabilize round before the core is deemed stuck. */
const readysPerRoundMax = 1_000;

export class InteractionEnv {
  private readonly replicas = new Map<ReplicaId, Replica>();
  private queue: Message[] = [];
  private groups: Map<ReplicaId, number> | undefined;
  private out: string[] = [];
  private level: LogLevel = "info";
  private tuning: Tuning | undefined;
  private readonly stats = new Map<string, number>();
  /** Log lines are indented under the "> n ..." block they happen in. */
  private indent = "";

  run(line: string): string {
    this.out = [];
    this.indent = "";
    const words = tokenize(line);
    const [cmd, ...rest] = words;
    const args = parseArgs(rest);
    try {
      this.dispatch(cmd ?? "", args);
    } catch (e) {
      if (e instanceof RaftError) this.out.push(`error ${e.code}: ${e.message}`);
      else throw e;
    }
    if (this.out.length === 0) this.out.push("ok");
    return this.out.join("\n");
  }

  private dispatch(cmd: string, a: Args): void {
    switch (cmd) {
      case "add-nodes":
        return this.addNodes(a);
      case "log-level":
        this.level = (a.positional[0] ?? "info") as LogLevel;
        return;
      case "campaign":
        return this.each(a, (r) => this.live(r).campaign());
      case "propose":
        return this.propose(a);
      case "propose-many":
        return this.proposeMany(a);
      case "propose-conf-change":
        return this.proposeConfChange(a);
      case "conf":
        return this.each(a, (r) => this.printConf(r));
      case "tick":
        return this.tick(a);
      case "tick-all":
        return this.tickAll(a);
      case "process-ready":
        return this.each(a, (r) => this.processReady(r));
      case "deliver-msgs":
        return this.deliverMsgs(a);
      case "stabilize":
        return this.stabilize(a);
      case "partition":
        return this.partition(a);
      case "heal":
        this.groups = undefined;
        return;
      case "crash":
        return this.each(a, (r) => this.crash(r));
      case "ready-then-crash":
        return this.each(a, (r) => this.readyThenCrash(r));
      case "restart":
        return this.each(a, (r) => this.restart(r, a));
      case "compact":
        return this.compact(a);
      case "read-index":
        return this.live(this.replica(num(a.positional[0]))).readIndex(bytes(a.positional[1] ?? ""));
      case "transfer-leadership":
        return this.live(this.replica(num(a.named.get("from")))).transferLeadership(num(a.named.get("to")));
      case "report-unreachable":
        return this.live(this.replica(num(a.named.get("from")))).reportUnreachable(num(a.named.get("to")));
      case "print-log":
      case "raft-log":
        return this.each(a, (r) => this.printLog(r));
      case "status":
        return this.each(a, (r) => this.printStatus(r));
      case "raft-state":
        return this.raftState();
      case "msg-stats":
        return this.msgStats();
      case "inject-msg":
        return this.injectMsg(a);
      default:
        throw new Error(`unknown command: ${cmd}`);
    }
  }

  // --- cluster set-up --------------------------------------------------------------------------

  private addNodes(a: Args): void {
    const n = num(a.positional[0]);
    const flag = (k: string, d: boolean): boolean => (a.named.has(k) ? a.named.get(k) === "true" : d);
    const int = (k: string, d: number): number => (a.named.has(k) ? num(a.named.get(k)) : d);
    this.tuning = {
      seed: int("seed", 1),
      preVote: flag("pre-vote", false),
      checkQuorum: flag("check-quorum", false),
      electionTicks: int("election", 10),
      heartbeatTicks: int("heartbeat", 1),
      maxInflightAppends: int("max-inflight", 256),
      maxInflightBytes: int("max-inflight-bytes", 0),
      maxAppendBytes: int("max-append-bytes", 1024 * 1024),
      maxUncommittedBytes: int("max-uncommitted", 0),
      maxTerm: a.named.has("max-term") ? num(a.named.get("max-term")) : undefined,
      maxTermJump: a.named.has("max-term-jump") ? num(a.named.get("max-term-jump")) : undefined,
    };
    const base = this.replicas.size;
    const existing = [...this.replicas.keys()];
    const join = a.named.get("join") === "true";
    if (join && existing.length === 0) throw new Error("join=true needs replicas to join");
    const added: Replica[] = [];
    for (let i = 1; i <= n; i++) {
      const id = base + i;
      const r: Replica = {
        id,
        storage: new MemoryStorage(),
        node: undefined,
        applied: 0,
        appliedData: [],
        restarts: 0,
        peers: [],
        confHistory: [],
      };
      this.replicas.set(id, r);
      added.push(r);
    }
    const peers = join ? existing : [...this.replicas.keys()];
    for (const r of added) {
      r.peers = peers;
      r.confHistory = [{ index: 0, cs: { voters: peers.slice(), learners: [] } }];
      r.node = new RawNode(this.config(r, peers), r.storage);
    }
  }

  private config(r: Replica, peers: ReplicaId[], overrides: Partial<Tuning> = {}): RaftConfig {
    const t = this.tuning === undefined ? undefined : { ...this.tuning, ...overrides };
    if (t === undefined) throw new Error("add-nodes first");
    return {
      id: r.id,
      peers,
      electionTicks: t.electionTicks,
      heartbeatTicks: t.heartbeatTicks,
      random: seededPrng(t.seed * 1000 + r.id * 10 + r.restarts),
      applied: r.applied,
      maxInflightAppends: t.maxInflightAppends,
      maxInflightBytes: t.maxInflightBytes,
      maxAppendBytes: t.maxAppendBytes,
      maxUncommittedBytes: t.maxUncommittedBytes,
      preVote: t.preVote,
      checkQuorum: t.checkQuorum,
      logger: this.logger(),
      ...(t.maxTerm === undefined ? {} : { maxTerm: t.maxTerm }),
      ...(t.maxTermJump === undefined ? {} : { maxTermJump: t.maxTermJump }),
    };
  }

  private logger(): RaftLogger {
    const lv = (): LogLevel => this.level;
    return {
      debug: (m) => {
        if (lv() === "debug") this.out.push(`${this.indent}DEBUG ${m}`);
      },
      info: (m) => {
        if (lv() !== "none") this.out.push(`${this.indent}INFO ${m}`);
      },
      warn: (m) => {
        if (lv() !== "none") this.out.push(`${this.indent}WARN ${m}`);
      },
    };
  }

  // --- requests --------------------------------------------------------------------------------

  private propose(a: Args): void {
    const r = this.replica(num(a.positional[0]));
    this.live(r).propose(bytes(a.positional[1] ?? ""));
  }

  /** propose-conf-change ID add-voter=X | add-learner=X | remove=X */
  private proposeConfChange(a: Args): void {
    const r = this.replica(num(a.positional[0]));
    const kinds: [string, ConfChangeType][] = [
      ["add-voter", ConfChangeType.AddVoter],
      ["add-learner", ConfChangeType.AddLearner],
      ["remove", ConfChangeType.Remove],
    ];
    const given = kinds.filter(([k]) => a.named.has(k));
    const [only] = given;
    if (only === undefined || given.length > 1) throw new Error("give one of add-voter=, add-learner=, remove=");
    const cc: ConfChange = { type: only[1], replicaId: num(a.named.get(only[0])) };
    this.live(r).proposeConfChange(cc);
  }

  private printConf(r: Replica): void {
    const cs = this.live(r).confState();
    this.out.push(`${r.id}: voters=(${cs.voters.join(" ")}) learners=(${cs.learners.join(" ")})`);
  }

  /** propose-many ID n=K [size=B]: K proposals of B bytes; prints how many were accepted. */
  private proposeMany(a: Args): void {
    const r = this.replica(num(a.positional[0]));
    const n = num(a.named.get("n"));
    const size = a.named.has("size") ? num(a.named.get("size")) : 1;
    let accepted = 0;
    for (let i = 0; i < n; i++) {
      const data = new Uint8Array(size).fill(0x61 + (i % 26));
      try {
        this.live(r).propose(data);
        accepted++;
      } catch (e) {
        if (!(e instanceof RaftError)) throw e;
        this.out.push(`proposal ${i + 1}: error ${e.code}: ${e.message}`);
        break;
      }
    }
    this.out.push(`accepted ${accepted} of ${n}`);
  }

  private tick(a: Args): void {
    const n = a.named.has("n") ? num(a.named.get("n")) : 1;
    this.each(a, (r) => {
      for (let i = 0; i < n; i++) this.live(r).tick();
    });
  }

  /** Ticks every live replica n times, in lockstep (one round = one tick each, in id order). */
  private tickAll(a: Args): void {
    const n = a.named.has("n") ? num(a.named.get("n")) : 1;
    for (let i = 0; i < n; i++) {
      for (const r of this.replicas.values()) r.node?.tick();
    }
  }

  // --- the driver ------------------------------------------------------------------------------

  private processReady(r: Replica): void {
    const node = this.live(r);
    if (!node.hasReady()) return;
    const rd = node.ready();
    this.out.push(`> ${r.id} handling Ready`);
    this.printReady(rd);
    this.persist(r, rd);
    for (const m of rd.messages) this.queue.push(m);
    this.apply(r, rd);
    this.indent = "  ";
    node.advance(rd);
    this.indent = "";
  }

  private printReady(rd: Ready): void {
    const lines: string[] = [];
    if (rd.softState !== undefined) lines.push(`soft: ${describeSoftState(rd.softState)}`);
    if (rd.hardState !== undefined) lines.push(`hard: ${describeHardState(rd.hardState)}`);
    if (rd.snapshot !== undefined) lines.push(`snapshot: ${describeSnapshot(rd.snapshot)}`);
    if (rd.entries.length > 0) lines.push(`entries: ${describeEntries(rd.entries)}`);
    if (rd.mustSync) lines.push("must-sync");
    if (rd.sendFirst) lines.push("send-first");
    if (rd.committedEntries.length > 0) lines.push(`committed: ${describeEntries(rd.committedEntries)}`);
    for (const m of rd.messages) lines.push(`send: ${describeMessage(m)}`);
    for (const rs of rd.readStates) lines.push(`read-state: index=${rs.index} ctx=${describeData(rs.context)}`);
    for (const l of lines) this.out.push(`  ${l}`);
  }

  /** Step 1 of the contract: make the Ready's state durable. */
  private persist(r: Replica, rd: Ready): void {
    persistReady(r.storage, rd);
  }

  private apply(r: Replica, rd: Ready): void {
    if (rd.snapshot !== undefined) {
      r.applied = rd.snapshot.metadata.index;
      r.appliedData = [`<snapshot ${describeData(rd.snapshot.data)}>`];
      const cs = rd.snapshot.metadata.confState;
      if (cs.voters.length > 0) r.confHistory = [{ index: r.applied, cs }];
    }
    for (const e of rd.committedEntries) {
      r.applied = e.index;
      if (e.type === EntryType.ConfChange) {
        // As a real application would: the membership moves on with the entry, and is
        // persisted with the applied index (the core does the same in advance()).
        const cc = decodeConfChange(e.data);
        const last = r.confHistory[r.confHistory.length - 1];
        if (typeof cc === "string" || last === undefined) throw new Error(`bad conf change at ${e.index}: ${cc}`);
        const cs = applyConfChangeTo(last.cs, cc);
        r.confHistory.push({ index: e.index, cs });
        r.storage.setConfState(cs);
        r.appliedData.push(`conf(${ConfChangeType[cc.type]} ${cc.replicaId})`);
      } else if (e.data.length > 0) r.appliedData.push(describeData(e.data));
    }
  }

  /** Takes a Ready and crashes before persisting anything of it (nothing is sent either). */
  private readyThenCrash(r: Replica): void {
    const node = this.live(r);
    if (node.hasReady()) {
      this.out.push(`> ${r.id} took a Ready and crashed before persisting it`);
      this.printReady(node.ready());
    }
    this.crash(r);
  }

  private deliverMsgs(a: Args): void {
    const targets = a.positional.length > 0 ? new Set(a.positional.map(num)) : undefined;
    const drop = new Set(a.named.has("drop") ? parseIdList(a.named.get("drop") ?? "") : []);
    const type = a.named.get("type");
    const now: Message[] = [];
    const keep: Message[] = [];
    for (const m of this.queue) {
      const wanted =
        (targets === undefined || targets.has(m.to)) && (type === undefined || MessageType[m.type] === type);
      (wanted ? now : keep).push(m);
    }
    this.queue = keep;
    // Per recipient in id order; each recipient gets its messages in the order they were sent.
    const recipients = [...new Set(now.map((m) => m.to))].sort((x, y) => x - y);
    for (const to of recipients) {
      this.out.push(`> ${to} receiving messages`);
      for (const m of now) if (m.to === to) this.deliver(m, drop.has(m.to));
    }
  }

  private deliver(m: Message, dropped: boolean): void {
    const to = this.replicas.get(m.to);
    let why = dropped ? "dropped" : "";
    if (why === "" && (to === undefined || to.node === undefined)) why = "dropped (crashed)";
    if (why === "" && this.groups !== undefined && this.groups.get(m.from) !== this.groups.get(m.to)) {
      why = "dropped (partition)";
    }
    this.out.push(`  ${describeMessage(m)}${why === "" ? "" : ` ${why}`}`);
    this.count(m, why !== "");
    this.indent = "    ";
    if (why === "" && to?.node !== undefined) to.node.step(m);
    this.indent = "";
    if (m.type === MessageType.Snapshot) {
      // The transport reports the snapshot's fate to the sender, as a real one would.
      const from = this.replicas.get(m.from)?.node;
      if (from !== undefined) {
        this.out.push(`  report-snapshot ${m.from}->${m.to} ${why === "" ? "ok" : "failed"}`);
        this.indent = "    ";
        from.reportSnapshot(m.to, why === "");
        this.indent = "";
      }
    }
  }

  /** Steps a hand-made message into its recipient, as if a broken or forged peer had sent it. */
  private injectMsg(a: Args): void {
    const field = (k: string, d = 0): number => (a.named.has(k) ? num(a.named.get(k)) : d);
    const typeName = a.named.get("type") ?? "";
    const type = MessageType[typeName as keyof typeof MessageType];
    if (type === undefined) throw new Error(`unknown message type: ${typeName}`);
    const m = newMessage(type, field("from"), field("to"), field("term"));
    m.logTerm = field("log-term");
    m.index = field("index");
    m.commit = field("commit");
    m.reject = a.named.get("reject") === "true";
    m.rejectHint = field("hint");
    m.hintTerm = field("hint-term");
    if (a.named.has("context")) m.context = bytes(a.named.get("context") ?? "");
    if (a.named.has("entries")) {
      m.entries = (a.named.get("entries") ?? "")
        .replace(/[()]/g, " ")
        .split(/\s+/)
        .filter((w) => w !== "")
        .map((w) => {
          const [term, index] = w.split("/").map(num);
          return { term: term ?? 0, index: index ?? 0, type: EntryType.Normal, data: new Uint8Array(0) };
        });
    }
    if (a.named.has("snapshot")) {
      const [term, index] = (a.named.get("snapshot") ?? "").split("/").map(num);
      const voters = a.named.has("snapshot-voters")
        ? parseIdList(a.named.get("snapshot-voters") ?? "")
        : [...this.replicas.keys()];
      m.snapshot = {
        metadata: { index: index ?? 0, term: term ?? 0, confState: { voters, learners: [] } },
        data: bytes("forged"),
      };
    }
    const to = this.live(this.replica(m.to));
    this.out.push(`  ${describeMessage(m)} (injected)`);
    this.indent = "    ";
    try {
      to.step(m);
    } finally {
      this.indent = "";
    }
  }

  private count(m: Message, dropped: boolean): void {
    let key = MessageType[m.type];
    if (m.reject) key += " rejected";
    if (dropped) key += " dropped";
    this.stats.set(key, (this.stats.get(key) ?? 0) + 1);
  }

  private stabilize(a: Args): void {
    const ids = a.positional.length > 0 ? a.positional.map(num) : [...this.replicas.keys()];
    for (let round = 0; round < stabilizeRoundsMax; round++) {
      let progressed = false;
      for (const id of ids) {
        const r = this.replica(id);
        // A core that never stops producing Readys (e.g. a HardState it never considers saved)
        // must fail the scenario, not hang the test run.
        for (let readys = 0; r.node?.hasReady() === true; readys++) {
          if (readys === readysPerRoundMax)
            throw new Error(`replica ${id} produced ${readysPerRoundMax} Readys in one round without settling`);
          this.processReady(r);
          progressed = true;
        }
      }
      const inScope = this.queue.filter((m) => ids.includes(m.to));
      if (inScope.length > 0) {
        progressed = true;
        this.deliverMsgs({ positional: ids.map(String), named: new Map() });
      }
      if (!progressed) return;
    }
    throw new Error(`stabilize did not settle within ${stabilizeRoundsMax} rounds`);
  }

  // --- faults ----------------------------------------------------------------------------------

  private partition(a: Args): void {
    this.groups = new Map();
    let g = 0;
    for (const w of a.positional) {
      if (w === "|") g++;
      else this.groups.set(num(w), g);
    }
  }

  private crash(r: Replica): void {
    r.node = undefined;
    this.out.push(
      `${r.id} crashed (persisted: ${describeHardState(r.storage.hardStateCopy())} last=${r.storage.lastIndex()})`,
    );
  }

  private restart(r: Replica, a: Args): void {
    if (r.node !== undefined) throw new Error(`replica ${r.id} is running`);
    r.restarts++;
    // The application's state survives with its applied index unless the script says otherwise.
    if (a.named.has("applied")) {
      r.applied = num(a.named.get("applied"));
      r.appliedData = [];
    }
    // A restart may bring a different term credit, e.g. to make one replica fall behind.
    const overrides: Partial<Tuning> = a.named.has("max-term-jump")
      ? { maxTermJump: num(a.named.get("max-term-jump")) }
      : {};
    r.node = new RawNode(this.config(r, r.peers, overrides), r.storage);
  }

  private compact(a: Args): void {
    const r = this.replica(num(a.positional[0]));
    const index = num(a.named.get("index"));
    if (index > r.applied) throw new Error(`compact ${index} beyond applied ${r.applied}`);
    // The membership at `index`: the last one applied at or before it.
    const at = r.confHistory.filter((h) => h.index <= index).pop();
    if (at === undefined) throw new Error(`no membership known at ${index}`);
    const snap = r.storage.createSnapshot(index, at.cs, bytes(`state@${index}`));
    r.storage.compact(index);
    this.out.push(`snapshot ${describeSnapshot(snap)}; first index now ${r.storage.firstIndex()}`);
  }

  // --- inspection ------------------------------------------------------------------------------

  private printLog(r: Replica): void {
    const s = r.storage;
    const snap = s.snapshot();
    if (snap.metadata.index > 0) this.out.push(`snapshot: ${describeSnapshot(snap)}`);
    const ents =
      s.lastIndex() >= s.firstIndex() ? s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER) : [];
    this.out.push(ents.length === 0 ? "log: (empty)" : `log: ${ents.map(describeEntry).join(", ")}`);
    this.out.push(`hard: ${describeHardState(s.hardStateCopy())}`);
    this.out.push(`applied: ${r.applied} [${r.appliedData.join(" ")}]`);
  }

  private printStatus(r: Replica): void {
    const st = this.live(r).status();
    const refused = Object.entries(st.refused ?? {}).filter(([, n]) => n > 0);
    this.out.push(
      `${st.id}: ${describeSoftState(st.softState)} ${describeHardState(st.hardState)} applied=${st.applied} last=${st.lastIndex} transferee=${st.leadTransferee}` +
        (refused.length === 0 ? "" : ` refused=(${refused.map(([k, n]) => `${k}:${n}`).join(" ")})`),
    );
    if (st.progress !== undefined) {
      for (const [id, p] of [...st.progress].sort((x, y) => x[0] - y[0])) {
        this.out.push(
          `  ${id}: ${p.state} match=${p.match} next=${p.next} inflight=${p.inflight}${p.recentActive ? " active" : ""}`,
        );
      }
    }
  }

  private raftState(): void {
    for (const r of this.replicas.values()) {
      if (r.node === undefined) {
        this.out.push(`${r.id}: crashed`);
        continue;
      }
      const st = r.node.status();
      this.out.push(
        `${r.id}: ${describeSoftState(st.softState)} term=${st.hardState.term} commit=${st.hardState.commit} applied=${st.applied} last=${st.lastIndex}`,
      );
    }
  }

  private msgStats(): void {
    const keys = [...this.stats.keys()].sort();
    for (const k of keys) this.out.push(`${k}: ${this.stats.get(k)}`);
    this.stats.clear();
  }

  // --- helpers ---------------------------------------------------------------------------------

  private each(a: Args, f: (r: Replica) => void): void {
    const ids = a.positional.length > 0 ? a.positional.map(num) : [...this.replicas.keys()];
    for (const id of ids) f(this.replica(id));
  }

  private replica(id: ReplicaId): Replica {
    const r = this.replicas.get(id);
    if (r === undefined) throw new Error(`no replica ${id}`);
    return r;
  }

  private live(r: Replica): RawNode {
    if (r.node === undefined) throw new Error(`replica ${r.id} is crashed`);
    return r.node;
  }
}

function num(v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || !Number.isSafeInteger(n)) throw new Error(`expected a number, got ${v}`);
  return n;
}

function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
