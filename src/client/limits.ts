// Defaults of the client library.

export const clientDeadlineMsDefault = 5_000; // a ledger call that takes longer than this is a failure to report
