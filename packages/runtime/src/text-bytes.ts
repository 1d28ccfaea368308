import { ForgeError, type Profile } from "@trtforge/core";

/**
 * UTF-8 bytes a text may take per token of the profile's maximum sequence length before it is
 * refused (or cut, with truncation) without being tokenized. Tokenizing is linear in the text, so
 * an 8 MiB text held a worker for seconds and gigabytes only to keep its first sequence.max tokens.
 * English news averages 4 to 6 bytes per WordPiece or BPE token, CJK about 3; 32 leaves a wide
 * margin, so a text refused by bytes is one that tokens would refuse as well, barring runs of
 * whitespace or words over the tokenizer's own word limit (which become one [UNK] each).
 */
export const MAX_TEXT_BYTES_PER_TOKEN = 32;

/** The most UTF-8 bytes one text may have for this profile (see MAX_TEXT_BYTES_PER_TOKEN). */
export function maxTextBytes(profile: Pick<Profile, "sequence">): number {
  return profile.sequence.max * MAX_TEXT_BYTES_PER_TOKEN;
}

// A cut is moved back to the last whitespace within this many bytes, so the last word is not halved.
const WORD_BACKOFF_BYTES = 256;

/** The first `maxBytes` UTF-8 bytes of `text` or fewer: whole characters, ending at whitespace where one is near. */
function utf8Prefix(text: string, maxBytes: number): string {
  // UTF-8 takes at least one byte per UTF-16 code unit, so maxBytes units cover maxBytes bytes.
  const bytes = Buffer.from(text.length > maxBytes ? text.slice(0, maxBytes) : text, "utf8");
  let end = Math.min(maxBytes, bytes.length);
  // Continuation bytes are 0b10xxxxxx: step back to the start of the character cut in two.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  for (let at = end - 1; at > 0 && at >= end - WORD_BACKOFF_BYTES; at -= 1) {
    const byte = bytes[at];
    if (byte === 0x20 || byte === 0x0a || byte === 0x09 || byte === 0x0d) {
      end = at;
      break;
    }
  }
  return bytes.toString("utf8", 0, end);
}

/**
 * Texts bounded by bytes before any tokenizer sees them, in time and memory linear in the limit,
 * never in the text: a text over `maxBytes` is refused with TEXT_TOO_LONG, or with `truncate` cut
 * to its first `maxBytes` bytes (whole characters, at a word boundary where one is near), which hold
 * at least sequence.max tokens of any ordinary text, so the tokenizer's own truncation then keeps the same
 * first tokens it would have kept from the whole text.
 */
export function boundTextBytes(texts: readonly string[], maxBytes: number, truncate: boolean): string[] {
  return texts.map((text, row) => {
    // At most 3 UTF-8 bytes per UTF-16 code unit: short strings need no encoding to be known within.
    if (text.length * 3 <= maxBytes) return text;
    const over = text.length > maxBytes || Buffer.byteLength(text, "utf8") > maxBytes;
    if (!over) return text;
    if (truncate) return utf8Prefix(text, maxBytes);
    const size = text.length > maxBytes ? `more than ${maxBytes}` : String(Buffer.byteLength(text, "utf8"));
    throw new ForgeError(
      "TEXT_TOO_LONG",
      `text ${row} has ${size} UTF-8 bytes, over the model's limit of ${maxBytes} bytes per text (checked before tokenizing)`,
      {
        input: `text[${row}]`,
        fix: `send texts of at most ${maxBytes} bytes, or ask for truncation (the text's first ${maxBytes} bytes are then tokenized and cut to the maximum sequence length)`,
        details: { row, maxBytes },
      },
    );
  });
}
