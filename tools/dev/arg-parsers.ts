// Option parsers for the dev CLI. A bad value throws commander's InvalidArgumentError, so
// commander reports it with the option's name and the usage, and the CLI exits with code 2.

import { InvalidArgumentError } from "commander";
import { addressProblem } from "../../src/cluster/address.js";
import { isLedgerError } from "../../src/base/errors.js";
import { parseAccountId } from "../../src/ledger/ids.js";

/** A decimal integer in [min, max]; no sign, fraction, exponent or leading "+". */
export function integerArg(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return value;
  };
}

/** host:port. */
export function addressArg(text: string): string {
  const problem = addressProblem(text);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
  return text;
}

/** 16 lowercase hex characters, as the API prints account ids. */
export function accountIdArg(text: string): string {
  try {
    parseAccountId(text, "account id");
  } catch (e) {
    if (isLedgerError(e)) throw new InvalidArgumentError(e.message);
    throw e;
  }
  return text;
}

/** A host name or IP address (validated with a port attached). */
export function hostArg(text: string): string {
  const problem = addressProblem(`${text}:1`);
  if (problem !== undefined) throw new InvalidArgumentError(`not a valid host name or IP address: ${text}`);
  return text;
}
