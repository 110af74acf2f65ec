// Message construction. Every message is a complete object (all fields present) so that the
// transport codec and tests never meet a missing field, and so that objects share one shape.

import { MessageType } from "./types.js";
import type { Message, ReplicaId } from "./types.js";

export const emptyBytes: Uint8Array = new Uint8Array(0);

/**
 * Context of the Vote messages of an election started by TimeoutNow (leadership transfer). A
 * voter inside its CheckQuorum lease grants such a vote anyway: the current leader asked for it.
 */
export const campaignTransferContext: Uint8Array = new Uint8Array(
  Array.from("CampaignTransfer", (c) => c.charCodeAt(0)),
);

export function isCampaignTransfer(context: Uint8Array): boolean {
  if (context.length !== campaignTransferContext.length) return false;
  for (let i = 0; i < context.length; i++) {
    if (context[i] !== campaignTransferContext[i]) return false;
  }
  return true;
}

export function newMessage(type: MessageType, from: ReplicaId, to: ReplicaId, term: number): Message {
  return {
    type,
    to,
    from,
    term,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    snapshot: undefined,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: emptyBytes,
  };
}

/** The response type for a (pre)vote request type. */
export function voteResponseType(t: MessageType): MessageType {
  return t === MessageType.PreVote ? MessageType.PreVoteResponse : MessageType.VoteResponse;
}
