/**
 * Orders strings by Unicode code point, as Python's sorted() does. JavaScript's default sort
 * compares UTF-16 code units, which puts astral characters (emoji, rare CJK) before U+E000-U+FFFF
 * and would change the JustNewsAgent checksum of such trees.
 */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length) {
    const left = a.codePointAt(i) as number;
    const right = b.codePointAt(i) as number;
    if (left !== right) return left - right;
    // Equal code points have equal UTF-16 widths, so one index serves both strings.
    i += left > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}
