/**
 * Two places where @huggingface/tokenizers 0.2.0 normalizes differently from the Rust tokenizers
 * library that the Python fast tokenizer runs, both found by comparing with it:
 *
 * - Lowercasing: JavaScript's toLowerCase applies the Greek final-sigma rule ("ΣΑΣ" -> "σας"),
 *   Rust lowercases each character alone ("σασ"). U+03A3 is the only character whose lowercase
 *   depends on its neighbours, so mapping it to σ first makes the two agree.
 * - CJK spacing (BertNormalizer handle_chinese_chars): the library walks UTF-16 code units, so
 *   ideographs outside the BMP (CJK extensions B to F, compatibility supplement) are never spaced.
 *   They are spaced here beforehand, with the ranges of the Rust library's `is_chinese_char`;
 *   spacing before clean_text is the same as after, as clean_text keeps spaces and ideographs.
 *
 * The fixes wrap the normalize method of the loaded tokenizer's normalizer objects in place.
 */

/** The shape of the library's normalizer objects that the fixes touch. */
interface LibraryNormalizer {
  config: { type?: unknown; lowercase?: unknown; handle_chinese_chars?: unknown };
  normalize(text: string): string;
  normalizers?: unknown[];
}

const SUPPLEMENTARY_CJK = /[\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B920}-\u{2CEAF}\u{2F800}-\u{2FA1F}]/gu;

function lowercaseSigmaAlone(text: string): string {
  return text.replaceAll("Σ", "σ");
}

function spaceSupplementaryCjk(text: string): string {
  return text.replace(SUPPLEMENTARY_CJK, (ideograph) => ` ${ideograph} `);
}

function isLibraryNormalizer(value: unknown): value is LibraryNormalizer {
  const candidate = value as Partial<LibraryNormalizer> | null;
  // The library's normalizers are callable objects (functions), so typeof is not "object".
  return candidate !== null && candidate !== undefined && typeof candidate.normalize === "function" && typeof candidate.config === "object";
}

function wrapNormalize(normalizer: LibraryNormalizer, before: (text: string) => string): void {
  const original = normalizer.normalize.bind(normalizer);
  normalizer.normalize = (text: string) => original(before(text));
}

export function applyRustParityFixes(normalizer: unknown): void {
  if (!isLibraryNormalizer(normalizer)) return;
  const { type, lowercase, handle_chinese_chars: handleChineseChars } = normalizer.config;
  if (type === "Sequence") {
    for (const inner of normalizer.normalizers ?? []) applyRustParityFixes(inner);
  } else if (type === "Lowercase" || (type === "BertNormalizer" && lowercase === true)) {
    wrapNormalize(normalizer, lowercaseSigmaAlone);
  }
  if (type === "BertNormalizer" && handleChineseChars === true) wrapNormalize(normalizer, spaceSupplementaryCjk);
}
