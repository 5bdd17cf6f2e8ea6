/** Helpers for texts of megabytes (a full cluster's gateway bundle is 43 MB). Pure. */

/**
 * A long text in slices of about `size` UTF-16 units, never cutting a surrogate pair in two: each half
 * of a pair alone would be hashed, escaped or encoded as a replacement character.
 */
export function* textSlices(text: string, size: number): Generator<string> {
  let from = 0;
  while (from < text.length) {
    let to = Math.min(from + size, text.length);
    const last = text.charCodeAt(to - 1);
    if (to < text.length && last >= 0xd800 && last <= 0xdbff) to++;
    yield from === 0 && to === text.length ? text : text.slice(from, to);
    from = to;
  }
}

/**
 * Lines as one text, each followed by a newline. The last newline comes from the join (an empty last
 * line): megabytes of text with '\n' appended would be a pair of strings that every later scan first
 * copies into one.
 */
export function linesText(lines: readonly string[]): string {
  return [...lines, ''].join('\n');
}
