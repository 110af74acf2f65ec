// The typed client of the public API (ledger.v1.LedgerService), for the dev CLI, tests and users.
// Every call carries a deadline and every failure is a LedgerError: the server's own code when
// the server answered, UNAVAILABLE or DEADLINE_EXCEEDED with a message naming the address when
// the server could not be reached. Input checks beyond the address are the server's job.

import { create } from "@bufbuild/protobuf";
import { CallCredentials, ChannelCredentials, Metadata, connectivityState } from "@grpc/grpc-js";
import { isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { identityOfCertificate } from "../security/identity.js";
import { LedgerError } from "../base/errors.js";
import { clientDeadlineMsDefault } from "./limits.js";
import {
  CancelTransactionRequestSchema,
  CreateAccountRequestSchema,
  CreateTransactionRequestSchema,
  CreateTransactionsRequestSchema,
  type CreateTransactionRequest,
  GetAccountRequestSchema,
  GetTransactionRequestSchema,
  LedgerService,
  ListTransactionsRequestSchema,
  SettleTransactionRequestSchema,
  type Account,
  type ListTransactionsResponse,
  type Transaction,
} from "../gen/ledger/v1/ledger_pb.js";
import { createUnaryClient, type UnaryClient } from "../transport/grpc-service.js";
import { parseAddress } from "../cluster/address.js";
import { toLedgerError, unreachableError } from "./client-errors.js";
import { listAllTransactions } from "./pages.js";

export const defaultLedgerAddress = "localhost:8000";

export interface ConnectOptions {
  /** Deadline of each call, in milliseconds from its start, unless the call sets its own. */
  deadlineMs?: number;
  /**
   * How the channel is secured: TLS by default, trusting `ca` (PEM; the system's CAs when
   * absent) and checking the server's certificate for `serverName` (the address's host when
   * absent); "insecure" only for a server started with --insecure.
   */
  tls?: { ca?: string | Buffer; serverName?: string } | "insecure";
  /** The API key sent with every call, as `authorization: Bearer <key>` (TLS only: a key is
   * never sent in the clear). */
  apiKey?: string;
}

/** The TLS server name (SNI) sent when the address is an IP: an IP there is refused by RFC 6066
 * (and warned about by Node); the certificate is still checked for the IP itself. */
const sniForIpAddresses = "ledger-gateway";

/** An error when `cert` names a cluster principal other than a gateway. */
function notAGateway(cert: PeerCertificate): Error | undefined {
  const principal = identityOfCertificate(cert);
  if (principal === undefined || principal.role === "gateway") return undefined;
  return new Error(`the server's certificate names ${principal.role} ${principal.name}, not a gateway`);
}

/** Channel credentials and options for `options.tls` and `options.apiKey` (the admin client's too). */
export function channelSecurity(
  host: string,
  options: ConnectOptions,
): { credentials: ChannelCredentials; channel: Record<string, string> } {
  const tls = options.tls ?? {};
  if (tls === "insecure") {
    if (options.apiKey !== undefined)
      throw new LedgerError("INVALID_ARGUMENT", "apiKey needs TLS: an API key is never sent over an insecure channel");
    return { credentials: ChannelCredentials.createInsecure(), channel: {} };
  }
  const byIp = tls.serverName === undefined && isIP(host) !== 0;
  const expectedName = tls.serverName ?? host;
  const verify = {
    // The usual host name check, and then: a certificate that names a principal of the cluster
    // must name a gateway. A node's or an operator's certificate (same CA) may carry the host
    // name too; its holder must not be able to pose as the gateway and collect API keys.
    checkServerIdentity: (_name: string, cert: PeerCertificate) =>
      checkServerIdentity(expectedName, cert) ?? notAGateway(cert),
  };
  let credentials = ChannelCredentials.createSsl(tls.ca === undefined ? null : Buffer.from(tls.ca), null, null, verify);
  const key = options.apiKey;
  if (key !== undefined) {
    const bearer = `Bearer ${key}`;
    credentials = credentials.compose(
      CallCredentials.createFromMetadataGenerator((_params, callback) => {
        const metadata = new Metadata();
        metadata.set("authorization", bearer);
        callback(null, metadata);
      }),
    );
  }
  const serverName = tls.serverName ?? (byIp ? sniForIpAddresses : undefined);
  return { credentials, channel: serverName === undefined ? {} : { "grpc.ssl_target_name_override": serverName } };
}

export interface CallOptions {
  /** This call's deadline in milliseconds from its start (overrides the client default). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface CreateTransactionInput {
  accountId: string;
  /** Minor units, non-zero: positive is a topup, negative a purchase. */
  amount: bigint;
  description?: string;
  /** true: applied to both balances at once; false (default): pending until settled or cancelled. */
  settled?: boolean;
  requestId?: string;
}

export interface ListTransactionsInput {
  accountId: string;
  /** 0 or absent: the server's default page size. */
  pageSize?: number;
  pageToken?: string;
}

/** One item's outcome in a CreateTransactions reply. */
export type CreateTransactionOutcome =
  | { transaction: Transaction; error?: undefined }
  | { transaction?: undefined; error: { code: string; message: string } };

function createTransactionRequest(input: CreateTransactionInput): CreateTransactionRequest {
  return create(CreateTransactionRequestSchema, {
    accountId: input.accountId,
    amount: input.amount,
    description: input.description ?? "",
    settled: input.settled ?? false,
    requestId: input.requestId ?? "",
  });
}

function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new LedgerError("INTERNAL", `the server's reply has no ${what}`);
  return value;
}

export class LedgerClient {
  private constructor(
    readonly address: string,
    private readonly rpc: UnaryClient<typeof LedgerService>,
    private readonly deadlineMs: number,
  ) {}

  /**
   * A client for the server at `address` (host:port). Connecting is lazy: the first call (or
   * waitForReady) opens the channel. Throws INVALID_ARGUMENT for a malformed address.
   */
  static connect(address: string = defaultLedgerAddress, options: ConnectOptions = {}): LedgerClient {
    const deadlineMs = options.deadlineMs ?? clientDeadlineMsDefault;
    if (!Number.isInteger(deadlineMs) || deadlineMs <= 0) {
      throw new LedgerError("INVALID_ARGUMENT", `deadlineMs must be a positive integer, got ${deadlineMs}`);
    }
    const parsed = parseAddress(address);
    const security = channelSecurity(parsed.host, options);
    const rpc = createUnaryClient(LedgerService, parsed.text, {
      defaultDeadlineMs: deadlineMs,
      credentials: security.credentials,
      channel: security.channel,
    });
    return new LedgerClient(parsed.text, rpc, deadlineMs);
  }

  async createAccount(input: { requestId?: string } = {}, options?: CallOptions): Promise<Account> {
    const request = create(CreateAccountRequestSchema, { requestId: input.requestId ?? "" });
    const reply = await this.call((o) => this.rpc.createAccount(request, o), options);
    return present(reply.account, "account");
  }

  async getAccount(accountId: string, options?: CallOptions): Promise<Account> {
    const reply = await this.call(
      (o) => this.rpc.getAccount(create(GetAccountRequestSchema, { accountId }), o),
      options,
    );
    return present(reply.account, "account");
  }

  async createTransaction(input: CreateTransactionInput, options?: CallOptions): Promise<Transaction> {
    const request = createTransactionRequest(input);
    const reply = await this.call((o) => this.rpc.createTransaction(request, o), options);
    return present(reply.transaction, "transaction");
  }

  /**
   * Many CreateTransaction calls in one (1 to 1,000 items; the server refuses the whole call
   * otherwise): one outcome per item, in order, each the transaction CreateTransaction would have
   * returned or the error it would have failed with (code: the gRPC status code's name). Rejects
   * only when the call as a whole fails.
   */
  async createTransactions(
    items: readonly CreateTransactionInput[],
    options?: CallOptions,
  ): Promise<CreateTransactionOutcome[]> {
    const request = create(CreateTransactionsRequestSchema, { transactions: items.map(createTransactionRequest) });
    const reply = await this.call((o) => this.rpc.createTransactions(request, o), options);
    if (reply.results.length !== items.length) {
      throw new LedgerError(
        "INTERNAL",
        `the server answered ${items.length} items with ${reply.results.length} results`,
      );
    }
    return reply.results.map((r, i): CreateTransactionOutcome => {
      const { outcome } = r;
      if (outcome.case === "transaction") return { transaction: outcome.value };
      if (outcome.case === "error") return { error: { code: outcome.value.code, message: outcome.value.message } };
      throw new LedgerError("INTERNAL", `the server's result ${i} has neither a transaction nor an error`);
    });
  }

  async getTransaction(transactionId: string, options?: CallOptions): Promise<Transaction> {
    const request = create(GetTransactionRequestSchema, { transactionId });
    const reply = await this.call((o) => this.rpc.getTransaction(request, o), options);
    return present(reply.transaction, "transaction");
  }

  async settleTransaction(transactionId: string, options?: CallOptions): Promise<Transaction> {
    const request = create(SettleTransactionRequestSchema, { transactionId });
    const reply = await this.call((o) => this.rpc.settleTransaction(request, o), options);
    return present(reply.transaction, "transaction");
  }

  async cancelTransaction(transactionId: string, options?: CallOptions): Promise<Transaction> {
    const request = create(CancelTransactionRequestSchema, { transactionId });
    const reply = await this.call((o) => this.rpc.cancelTransaction(request, o), options);
    return present(reply.transaction, "transaction");
  }

  /** One page of an account's transactions, in creation order. */
  listTransactions(input: ListTransactionsInput, options?: CallOptions): Promise<ListTransactionsResponse> {
    const request = create(ListTransactionsRequestSchema, {
      accountId: input.accountId,
      pageSize: input.pageSize ?? 0,
      pageToken: input.pageToken ?? "",
    });
    return this.call((o) => this.rpc.listTransactions(request, o), options);
  }

  /** Every transaction of an account, in creation order, fetching page after page as needed. */
  transactions(accountId: string, options: { pageSize?: number } & CallOptions = {}): AsyncGenerator<Transaction> {
    return listAllTransactions((pageToken) =>
      this.listTransactions({ accountId, pageSize: options.pageSize, pageToken }, options),
    );
  }

  /**
   * Resolves once the channel is connected; rejects with UNAVAILABLE naming the address if it
   * is not connected by `deadline` (a Date or Date.now() milliseconds).
   */
  waitForReady(deadline: Date | number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.rpc.raw.waitForReady(deadline, (error) => {
        if (error)
          reject(unreachableError("UNAVAILABLE", this.address, `not connected before the deadline: ${error.message}`));
        else resolve();
      });
    });
  }

  close(): void {
    this.rpc.close();
  }

  private async call<T>(
    run: (o: { deadlineMs: number; signal?: AbortSignal }) => Promise<T>,
    options?: CallOptions,
  ): Promise<T> {
    const deadlineMs = Date.now() + (options?.timeoutMs ?? this.deadlineMs);
    try {
      return await run(options?.signal ? { deadlineMs, signal: options.signal } : { deadlineMs });
    } catch (e) {
      const connected = this.rpc.raw.getChannel().getConnectivityState(false) === connectivityState.READY;
      throw toLedgerError(e, this.address, connected);
    }
  }
}
