/**
 * A minimal terminal: replays what was written to a TTY stream (text, \r, \n and the cursor and
 * erase sequences Node's readline and cli-progress emit) and returns the screen's lines, so a test
 * can see what a person would see rather than the raw byte stream.
 */
export function renderScreen(output: string): string[] {
  const screen: string[][] = [[]];
  let row = 0;
  let col = 0;
  let saved: [number, number] = [0, 0];
  const line = (r: number): string[] => {
    while (screen.length <= r) screen.push([]);
    return screen[r]!;
  };
  for (let i = 0; i < output.length; i++) {
    const ch = output[i]!;
    if (ch === "\u001b") {
      // eslint-disable-next-line no-control-regex -- ESC is the character this parser looks for
      const csi = /^\u001b\[(\??)([0-9;]*)([A-Za-z])/.exec(output.slice(i));
      if (csi) {
        i += csi[0].length - 1;
        if (csi[1] === "?") continue; // cursor visibility, line wrapping
        const n = csi[2] === "" ? undefined : Number(csi[2]!.split(";")[0]);
        switch (csi[3]) {
          case "A":
            row = Math.max(0, row - (n ?? 1));
            break;
          case "B":
            row += n ?? 1;
            break;
          case "C":
            col += n ?? 1;
            break;
          case "D":
            col = Math.max(0, col - (n ?? 1));
            break;
          case "G":
            col = (n ?? 1) - 1;
            break;
          case "K": {
            const l = line(row);
            if ((n ?? 0) === 0) l.length = Math.min(l.length, col);
            else if (n === 1) for (let c = 0; c <= col && c < l.length; c++) l[c] = " ";
            else l.length = 0;
            break;
          }
          case "J":
            line(row).length = Math.min(line(row).length, col);
            screen.length = row + 1;
            break;
          default:
            break; // colours (m) and anything else do not move the cursor
        }
        continue;
      }
      if (output[i + 1] === "7") {
        saved = [row, col];
        i += 1;
        continue;
      }
      if (output[i + 1] === "8") {
        [row, col] = saved;
        i += 1;
        continue;
      }
      continue;
    }
    if (ch === "\r") {
      col = 0;
      continue;
    }
    if (ch === "\n") {
      row += 1;
      col = 0;
      line(row);
      continue;
    }
    const l = line(row);
    while (l.length < col) l.push(" ");
    l[col] = ch;
    col += 1;
  }
  return screen.map((l) => l.join("").trimEnd());
}
