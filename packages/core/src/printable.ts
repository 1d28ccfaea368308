/** C0 and C1 control characters and DEL: ESC and BEL would drive the terminal, a newline would forge a line. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function escapeControl(char: string): string {
  if (char === "\n") return "\\n";
  if (char === "\r") return "\\r";
  if (char === "\t") return "\\t";
  return `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
}

/** `text` with every control character written as an escape (`\x1b`, `\x07`, `\n`): for names and other input quoted in messages. */
export function printable(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/** Like printable, but keeps the line breaks and tabs of a multi-line message written for the terminal. */
export function printableLines(text: string): string {
  return text.replace(CONTROL, (char) => (char === "\n" || char === "\t" ? char : escapeControl(char)));
}
