// Where the dev CLI writes: stdout carries the results (ids, scenario steps) so it can be piped;
// stderr carries progress, errors and usage. Injected so the commands can run in-process.

export interface DevIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export const processIo: DevIo = { stdout: process.stdout, stderr: process.stderr };

export function writeLine(stream: NodeJS.WritableStream, line: string): void {
  stream.write(`${line}\n`);
}

/** An expected failure of a command (a file it cannot write, say): reported as one line, exit 1. */
export class CliFailure extends Error {
  override name = "CliFailure";
}
