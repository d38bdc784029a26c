import { protocolError } from "../errors.js";

// Byte helpers shared by the protocol: hex, base64url and constant-time comparison.
// Plain TypeScript without Buffer, so the same code runs on the edge, the fleet and in a browser.
// Decoders are strict and throw "E_BAD_ENCODING: ..." rather than guessing: one string, one value.

const HEX_DIGITS = "0123456789abcdef";
const BYTE_TO_HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
const HEX_PATTERN = /^(?:[0-9a-fA-F]{2})*$/;

const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE64URL_VALUE = new Map([...BASE64URL_ALPHABET].map((char, value) => [char, value]));

/** Lower-case hex of the bytes. */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += BYTE_TO_HEX[byte];
  return hex;
}

/** Decodes hex (either case, even length, no prefix or separators). */
export function fromHex(hex: string): Uint8Array {
  if (!HEX_PATTERN.test(hex)) {
    throw protocolError(
      "E_BAD_ENCODING",
      `not an even-length hex string (${hex.length} characters)`,
    );
  }
  const bytes = new Uint8Array(hex.length / 2);
  const lower = hex.toLowerCase();
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] =
      HEX_DIGITS.indexOf(lower.charAt(2 * i)) * 16 + HEX_DIGITS.indexOf(lower.charAt(2 * i + 1));
  }
  return bytes;
}

/** Unpadded base64url (RFC 4648 §5), as used in JSON envelopes. */
export function toBase64url(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const chunkLength = Math.min(3, bytes.length - i);
    const chunk = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    // 1, 2 or 3 bytes give 2, 3 or 4 characters.
    for (let k = 0; k <= chunkLength; k++) {
      text += BASE64URL_ALPHABET.charAt((chunk >> (18 - 6 * k)) & 0x3f);
    }
  }
  return text;
}

/**
 * Decodes unpadded base64url. Rejects padding, characters outside the alphabet, impossible lengths
 * and non-zero leftover bits, so each byte string has exactly one accepted text form.
 */
export function fromBase64url(text: string): Uint8Array {
  if (text.length % 4 === 1) {
    throw protocolError("E_BAD_ENCODING", `${text.length} characters cannot be base64url`);
  }
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let bitCount = 0;
  let written = 0;
  for (const char of text) {
    const value = BASE64URL_VALUE.get(char);
    if (value === undefined) {
      throw protocolError("E_BAD_ENCODING", `${JSON.stringify(char)} is not a base64url character`);
    }
    bits = ((bits << 6) | value) & 0xfff; // at most 12 bits are ever pending
    bitCount += 6;
    if (bitCount >= 8) {
      bitCount -= 8;
      bytes[written++] = bits >> bitCount;
      bits &= (1 << bitCount) - 1;
    }
  }
  if (bits !== 0) {
    throw protocolError(
      "E_BAD_ENCODING",
      "base64url text has non-zero leftover bits (not canonical)",
    );
  }
  return bytes;
}

/**
 * Equality whose running time depends only on the lengths, for comparing secrets.
 * Different lengths return false at once: lengths are not secret here.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

/** The parts one after another, in a new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
