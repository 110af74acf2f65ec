// Quoting client or peer input in an error message or a log line: JSON-quoted, so control
// characters and quotes cannot forge structure, and cut to a bounded prefix, so a 100,000-
// character id cannot blow up a status message past what a client accepts in trailers (8 KiB
// for a standard gRPC client, which then reports RESOURCE_EXHAUSTED instead of our error).

import { quotedInputCharsMax } from "./limits.js";

/**
 * `text` as a JSON string literal of at most `maxChars` escaped characters (plus the quotes);
 * a longer text is cut there (never inside an escape or a surrogate pair) and followed by
 * `... (N more characters)`, N counted in UTF-16 units like String.length.
 */
export function quote(text: string, maxChars: number = quotedInputCharsMax): string {
  let width = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const w = escapedWidth(text, i);
    if (width + w > maxChars) break;
    width += w;
  }
  if (i === text.length) return JSON.stringify(text);
  if (i > 0 && isHighSurrogate(text.charCodeAt(i - 1)) && isLowSurrogate(text.charCodeAt(i))) i--; // keep pairs whole
  return `${JSON.stringify(text.slice(0, i))}... (${text.length - i} more characters)`;
}

/** Characters JSON.stringify writes for the UTF-16 unit at `i`. */
function escapedWidth(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x22 || c === 0x5c) return 2; // \" and \\
  if (c < 0x20) return c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6; // \n or \u0001
  if (isHighSurrogate(c)) return isLowSurrogate(text.charCodeAt(i + 1)) ? 1 : 6; // a lone one is written \udxxx
  if (isLowSurrogate(c)) return isHighSurrogate(text.charCodeAt(i - 1)) ? 1 : 6;
  return 1;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * `text` cut to `maxChars` characters with `… (N more characters)` after it, or unchanged when
 * short enough: for a log field, which the JSON logger escapes itself.
 */
export function clip(text: string, maxChars: number = quotedInputCharsMax): string {
  if (text.length <= maxChars) return text;
  let cut = maxChars;
  if (isHighSurrogate(text.charCodeAt(cut - 1)) && isLowSurrogate(text.charCodeAt(cut))) cut--; // keep pairs whole
  return `${text.slice(0, cut)}… (${text.length - cut} more characters)`;
}
