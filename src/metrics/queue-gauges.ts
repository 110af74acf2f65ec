// The node loop's queues as the last turn found them (NodeObserver.turnStarted). The loop writes
// plain fields, thousands of times a second; the gauges read them only when scraped.

import { Gauge, type Registry } from "prom-client";
import type { NodeObserver } from "../node/node-observer.js";

export function queueGauges(registry: Registry): NodeObserver["turnStarted"] {
  const queues = { inboxMessages: 0, inboxBytes: 0, queuedProposals: 0, proposalsInFlight: 0, writerJobs: 0 };
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help: `${help}, as the last loop turn found them.`,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge("ledger_inbox_messages", "Peer Raft messages waiting in the node's inbox", () => queues.inboxMessages);
  gauge(
    "ledger_inbox_bytes",
    "Approximate bytes of the peer Raft messages waiting in the node's inbox",
    () => queues.inboxBytes,
  );
  gauge("ledger_proposals_queued", "Proposals waiting to be handed to Raft", () => queues.queuedProposals);
  gauge("ledger_proposals_in_flight", "Proposals handed to Raft and not yet answered", () => queues.proposalsInFlight);
  gauge("ledger_db_writer_jobs", "Writes and range deletions queued in the node's DB writer", () => queues.writerJobs);
  return (inboxMessages, inboxBytes, queuedProposals, proposalsInFlight, writerJobs) => {
    queues.inboxMessages = inboxMessages;
    queues.inboxBytes = inboxBytes;
    queues.queuedProposals = queuedProposals;
    queues.proposalsInFlight = proposalsInFlight;
    queues.writerJobs = writerJobs;
  };
}
