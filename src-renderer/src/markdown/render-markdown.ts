// Model output → safe HTML: markdown-it (raw HTML off) with code highlighting and KaTeX math, then DOMPurify.
// A streaming answer is rendered again on every frame, so the expensive pieces (a highlighted code block, a
// typeset formula) are cached by their source: only the block still being written is redone.
import katex from "katex";
import MarkdownIt from "markdown-it";
import { highlightCode } from "./highlight.js";
import { mathPlugin } from "./math-plugin.js";
import { DATA_IMAGE, isWebUrl, moveMathStyles, sanitizeHtml } from "./sanitize.js";

export interface MarkdownLabels {
  /** The copy button's text on each code block. */
  copyCode: string;
  /** The tooltip of a remote image that was not loaded. */
  remoteImage: string;
}

export type RenderMarkdown = (source: string) => string;

/** A small memo that forgets everything when full: cheap, and a long answer's blocks fit many times over. */
function memo<T>(limit: number, compute: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    if (cache.size >= limit) cache.clear();
    const value = compute(key);
    cache.set(key, value);
    return value;
  };
}

const SEPARATOR = "\u0000";

const typeset = memo(500, (key) => {
  const displayMode = key.startsWith("D");
  const tex = key.slice(2);
  const html = katex.renderToString(tex, {
    displayMode,
    // A typo in the model's TeX shows as red source text instead of breaking the answer.
    throwOnError: false,
    // No \href, \url, \includegraphics, \htmlClass…: these need `trust`.
    trust: false,
    strict: "ignore",
    output: "htmlAndMathml",
    // Bounds against TeX that expands without end.
    maxExpand: 500,
    maxSize: 50,
  });
  return moveMathStyles(html);
});

const highlight = memo(300, (key) => {
  const at = key.indexOf(SEPARATOR);
  return highlightCode(key.slice(at + 1), key.slice(0, at)) ?? "";
});

const LANGUAGE = /^[\w+#.-]{1,32}$/;

export function createMarkdownRenderer(labels: MarkdownLabels): RenderMarkdown {
  const md = new MarkdownIt({ html: false, linkify: true, breaks: true, typographer: false });
  const escape = md.utils.escapeHtml;
  mathPlugin(md, (tex, displayMode) => typeset(`${displayMode ? "D" : "I"}${SEPARATOR}${tex}`));

  const codeBlock = (code: string, info: string) => {
    const language = info.trim().split(/\s+/)[0]?.toLowerCase() ?? "";
    const safeLanguage = LANGUAGE.test(language) ? language : "";
    const highlighted = (safeLanguage && highlight(`${safeLanguage}${SEPARATOR}${code}`)) || escape(code);
    const codeClass = safeLanguage ? `hljs language-${safeLanguage}` : "hljs";
    return (
      `<div class="code-block"><div class="code-head"><span class="code-language">${escape(safeLanguage)}</span>` +
      `<button type="button" class="code-copy">${escape(labels.copyCode)}</button></div>` +
      `<pre><code class="${codeClass}">${highlighted}</code></pre></div>\n`
    );
  };
  md.renderer.rules.fence = (tokens, index) => codeBlock(tokens[index]!.content, tokens[index]!.info);
  md.renderer.rules.code_block = (tokens, index) => codeBlock(tokens[index]!.content, "");

  // A remote image is never fetched (it would tell a server that this answer was read, and what it says):
  // it becomes a link to the picture, or its description when the address is not a web page.
  md.renderer.rules.image = (tokens, index, options, env, self) => {
    const token = tokens[index]!;
    const src = String(token.attrGet("src") ?? "");
    const alt = self.renderInlineAsText(token.children ?? [], options, env);
    if (DATA_IMAGE.test(src)) return `<img src="${escape(src)}" alt="${escape(alt)}">`;
    const label = escape(alt || src);
    return isWebUrl(src)
      ? `<a class="blocked-image" href="${escape(src)}" title="${escape(labels.remoteImage)}">${label}</a>`
      : `<span class="blocked-image">${label}</span>`;
  };

  return (source) => sanitizeHtml(md.render(source));
}
