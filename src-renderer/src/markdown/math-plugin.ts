// LaTeX math for markdown-it: `$…$` and `\(…\)` inline, `$$…$$` and `\[…\]` as blocks (or inline when they
// sit inside a paragraph). BiLLa writes all four. The rules only cut the TeX out of the text; `render`
// turns it into HTML (KaTeX), and the whole page is sanitized afterwards like everything else.
import type { MarkdownIt, StateBlock, StateInline } from "markdown-it";

export type RenderMath = (tex: string, displayMode: boolean) => string;

const isSpace = (code: number | undefined) => code === 0x20 || code === 0x09 || code === 0x0a;
const isDigit = (code: number | undefined) => code !== undefined && code >= 0x30 && code <= 0x39;

/** Where `closer` next appears after `from`, skipping backslash-escaped characters; -1 if nowhere. */
function findCloser(src: string, from: number, closer: string, end: number): number {
  for (let pos = from; pos < end; pos++) {
    if (src.startsWith(closer, pos)) return pos;
    // `\$` inside math is an escaped dollar, not the end; `\\` is a TeX line break.
    if (src.charCodeAt(pos) === 0x5c && closer === "$") pos++;
  }
  return -1;
}

function mathInline(state: StateInline, silent: boolean): boolean {
  const { src, pos, posMax } = state;
  let open: string;
  let close: string;
  let display = false;
  if (src.startsWith("\\(", pos)) [open, close] = ["\\(", "\\)"];
  else if (src.startsWith("\\[", pos)) [open, close, display] = ["\\[", "\\]", true];
  else if (src.startsWith("$$", pos)) [open, close, display] = ["$$", "$$", true];
  else if (src.charCodeAt(pos) === 0x24 /* $ */) [open, close] = ["$", "$"];
  else return false;

  const start = pos + open.length;
  // Pandoc's rule for `$`: no space right inside the delimiters and no digit right after the closing one,
  // so "it costs $5 and $10" stays text.
  if (open === "$" && isSpace(src.charCodeAt(start))) return false;
  const end = findCloser(src, start, close, posMax);
  if (end <= start) return false;
  if (open === "$" && (isSpace(src.charCodeAt(end - 1)) || isDigit(src.charCodeAt(end + 1)))) return false;

  if (!silent) {
    const token = state.push(display ? "math_inline_display" : "math_inline", "math", 0);
    token.markup = open;
    token.content = src.slice(start, end);
  }
  state.pos = end + close.length;
  return true;
}

function mathBlock(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  let pos = state.bMarks[startLine]! + state.tShift[startLine]!;
  let max = state.eMarks[startLine]!;
  // Indented four spaces or more, it is a code block.
  if (state.sCount[startLine]! - state.blkIndent >= 4) return false;
  const src = state.src;
  let close: string;
  if (src.startsWith("$$", pos)) close = "$$";
  else if (src.startsWith("\\[", pos)) close = "\\]";
  else return false;
  pos += 2;

  let firstLine = src.slice(pos, max);
  let lastLine = "";
  let line = startLine;
  let found = false;
  const sameLineEnd = firstLine.trimEnd().endsWith(close) ? firstLine.trimEnd().length - close.length : -1;
  if (sameLineEnd >= 0) {
    // `$$ x $$` on one line.
    firstLine = firstLine.slice(0, sameLineEnd);
    found = true;
  } else {
    for (line = startLine + 1; line < endLine; line++) {
      pos = state.bMarks[line]! + state.tShift[line]!;
      max = state.eMarks[line]!;
      // A less indented non-empty line ends the enclosing list item or quote.
      if (pos < max && state.sCount[line]! < state.blkIndent) break;
      const text = src.slice(pos, max).trimEnd();
      if (text.endsWith(close)) {
        lastLine = text.slice(0, text.length - close.length);
        found = true;
        break;
      }
    }
  }
  // Not closed (yet, while an answer streams): leave it to the paragraph rule, shown as text.
  if (!found) return false;
  if (silent) return true;

  state.line = line + 1;
  const token = state.push("math_block", "math", 0);
  token.block = true;
  token.content =
    line === startLine ? firstLine : [firstLine, state.getLines(startLine + 1, line, state.tShift[startLine]!, true), lastLine].filter((part) => part.trim() !== "").join("\n");
  token.map = [startLine, state.line];
  token.markup = close === "$$" ? "$$" : "\\[";
  return true;
}

export function mathPlugin(md: MarkdownIt, render: RenderMath): void {
  // Before `escape`, which would otherwise turn `\(` into a literal parenthesis.
  md.inline.ruler.before("escape", "math_inline", mathInline);
  md.block.ruler.before("fence", "math_block", mathBlock, { alt: ["paragraph", "reference", "blockquote", "list"] });
  md.renderer.rules["math_inline"] = (tokens, index) => render(tokens[index]!.content, false);
  md.renderer.rules["math_inline_display"] = (tokens, index) => render(tokens[index]!.content, true);
  md.renderer.rules["math_block"] = (tokens, index) => `<div class="math-block">${render(tokens[index]!.content, true)}</div>\n`;
}
