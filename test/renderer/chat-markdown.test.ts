// Model output through the Markdown pipeline: what an answer may show, and what it must never do.
// jsdom runs no scripts and loads no images, so whether hostile output *runs* is checked in Chromium
// (test/e2e/chat.test.ts, "runs nothing"); here, that it never becomes markup that could.
import { afterEach, describe, expect, it } from "vitest";
import { applyMathStyles, sanitizeHtml } from "../../src-renderer/src/markdown/sanitize.js";
import { createMarkdownRenderer } from "../../src-renderer/src/markdown/render-markdown.js";

const render = createMarkdownRenderer({ copyCode: "Copy code", remoteImage: "Remote image, not loaded" });

/** Renders into a real (jsdom) element, as the message view does. */
function mount(source: string): HTMLElement {
  const element = document.createElement("div");
  element.innerHTML = render(source);
  applyMathStyles(element);
  document.body.append(element);
  return element;
}

/** Every event-handler attribute (on…) anywhere in the element. */
function handlerAttributes(root: HTMLElement): string[] {
  return [root, ...root.querySelectorAll("*")].flatMap((element) => [...element.attributes].map((attribute) => attribute.name).filter((name) => /^on/i.test(name)));
}

afterEach(() => {
  document.body.innerHTML = "";
});

describe("sanitising model output", () => {
  it("shows an <img onerror> as text and creates no element", () => {
    const element = mount('Look: <img src=x onerror="window.pwned=1"> done');
    expect(element.querySelector("img")).toBeNull();
    expect(element.textContent).toBe('Look: <img src=x onerror="window.pwned=1"> done\n');
    expect(element.innerHTML).not.toMatch(/<img/i);
    expect(handlerAttributes(element)).toEqual([]);
  });

  it("shows a <script> as text", () => {
    const element = mount("<script>window.pwned = 1</script>\n\n<p onclick=alert(1)>x</p>");
    expect(element.querySelector("script")).toBeNull();
    expect(handlerAttributes(element)).toEqual([]);
    expect([...element.querySelectorAll("p")].map((paragraph) => paragraph.textContent)).toEqual(["<script>window.pwned = 1</script>", "<p onclick=alert(1)>x</p>"]);
  });

  it("drops javascript:, data: and relative links but keeps their text", () => {
    const element = mount("[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](data:text/html,<script>alert(1)</script>) [d](/etc/passwd) <vbscript:x>");
    for (const anchor of element.querySelectorAll("a")) {
      expect(anchor.getAttribute("href") ?? "").not.toMatch(/^(javascript|data|vbscript|\/)/i);
    }
    expect(element.innerHTML).not.toMatch(/href="(javascript|data|vbscript|\/)/i);
  });

  it("opens http(s) links in a new tab that cannot reach back", () => {
    const element = mount("See [BiLLa](https://github.com/Neutralzz/BiLLa) or http://example.com/page");
    const anchors = [...element.querySelectorAll("a")];
    expect(anchors.map((anchor) => anchor.getAttribute("href"))).toEqual(["https://github.com/Neutralzz/BiLLa", "http://example.com/page"]);
    for (const anchor of anchors) {
      expect(anchor.getAttribute("target")).toBe("_blank");
      expect(anchor.getAttribute("rel")).toBe("noopener noreferrer");
    }
  });

  it("never loads a remote image: it becomes a link to it", () => {
    const element = mount("![a cat](https://example.com/cat.png) and ![x](//evil.example/t.gif)");
    expect(element.querySelector("img")).toBeNull();
    const link = element.querySelector("a.blocked-image");
    expect(link?.getAttribute("href")).toBe("https://example.com/cat.png");
    expect(link?.textContent).toBe("a cat");
    expect(element.innerHTML).not.toContain("src=");
  });

  it("keeps an image carried in the answer itself (data: PNG)", () => {
    const png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    const element = mount(`![dot](${png})`);
    expect(element.querySelector("img")?.getAttribute("src")).toBe(png);
  });

  it("renders raw HTML inside math as TeX text, never as markup", () => {
    const element = mount("$\\text{<img src=x onerror=alert(1)>}$ and $$<script>alert(1)</script>$$ and \\(\\href{javascript:alert(1)}{x}\\)");
    expect(element.querySelector("img, script, a")).toBeNull();
    expect(element.innerHTML).not.toMatch(/<img|<script/i);
    expect(handlerAttributes(element)).toEqual([]);
    expect([...element.querySelectorAll("[href], [src]")]).toEqual([]);
    expect(element.querySelectorAll(".katex").length).toBe(3);
  });

  it("lets no style through but KaTeX's own lengths and colours, applied through CSSOM", () => {
    const element = mount("$\\color{red}{x^2}$");
    expect(element.querySelector("[style]")).not.toBeNull();
    expect(element.querySelector("[data-math-style]")).toBeNull();
    const colored = [...element.querySelectorAll<HTMLElement>(".katex-html [style]")].find((node) => node.style.color !== "");
    expect(colored?.style.color).toBe("red");
  });
});

describe("KaTeX's styles", () => {
  it("never reach the HTML parser as style attributes (the CSP would report each one)", () => {
    const html = render("$x^2$");
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).toMatch(/data-math-style="[^"]*em/);
  });

  it("are dropped when they could load or run anything", () => {
    for (const style of ["background:url(https://example.com/x.png)", "background-image:image-set(x)", "width:expression(alert(1))", "color:var(--x)", 'content:"\\41"']) {
      expect(sanitizeHtml(`<span data-math-style='${style}'>x</span>`)).toBe("<span>x</span>");
    }
    expect(sanitizeHtml('<span style="color:red" data-math-style="height:1em">x</span>')).toBe('<span data-math-style="height:1em">x</span>');
  });
});

describe("rendering answers", () => {
  it("renders Markdown: emphasis, lists, tables and line breaks", () => {
    const element = mount("**bold** and *it*\n\n1. Blue melon\n2. Star plum\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n春风吹绿柳，\n细雨润青山。");
    expect(element.querySelector("strong")?.textContent).toBe("bold");
    expect([...element.querySelectorAll("ol li")].map((li) => li.textContent)).toEqual(["Blue melon", "Star plum"]);
    expect(element.querySelector("table td")?.textContent).toBe("1");
    expect(element.querySelector("br")).not.toBeNull();
  });

  it("highlights fenced code with a copy button per block", () => {
    const element = mount('```python\nprint("hello")\n```\n\n```\nplain <b>text</b>\n```');
    const blocks = element.querySelectorAll(".code-block");
    expect(blocks.length).toBe(2);
    expect(blocks[0]!.querySelector("code")?.classList.contains("language-python")).toBe(true);
    expect(blocks[0]!.querySelector(".hljs-built_in, .hljs-string")).not.toBeNull();
    expect(blocks[0]!.querySelector("code")?.textContent).toBe('print("hello")\n');
    expect(blocks[1]!.querySelector("code")?.textContent).toBe("plain <b>text</b>\n");
    expect(blocks[1]!.querySelector("b")).toBeNull();
    for (const block of blocks) expect(block.querySelector("button.code-copy")?.textContent).toBe("Copy code");
  });

  it("keeps an unfinished code fence as code while it streams", () => {
    const element = mount("Here:\n```js\nconst a = 1;");
    expect(element.querySelector("pre code")?.textContent).toContain("const a = 1;");
  });

  it("typesets all four math delimiters and leaves prices alone", () => {
    const element = mount("Inline $a^2+b^2=c^2$ and \\(e^{i\\pi}\\).\n\n$$\n\\int_0^1 x\\,dx = \\frac12\n$$\n\n\\[\\sum_{k=1}^n k\\]\n\nIt costs $5 and $10.");
    expect(element.querySelectorAll(".katex").length).toBe(4);
    expect(element.querySelectorAll(".math-block .katex-display").length).toBe(2);
    expect(element.textContent).toContain("It costs $5 and $10.");
    expect(element.querySelector("annotation")?.textContent).toBe("a^2+b^2=c^2");
  });

  it("shows an unfinished $$ block as text until it closes", () => {
    expect(mount("$$\n\\frac{1}{2").querySelector(".katex")).toBeNull();
    expect(mount("$$\n\\frac{1}{2}\n$$").querySelector(".katex-display")).not.toBeNull();
  });

  it("shows TeX errors as their source in red instead of failing, and typesets around them", () => {
    const element = mount("$\\frac{1}{$ then $\\notacommand$");
    const paragraph = element.querySelector("p")!;
    expect(element.children).toHaveLength(1);
    expect([...paragraph.childNodes].map((node) => node.nodeName)).toEqual(["SPAN", "#text", "SPAN"]);
    const [broken, between, unknown] = [...paragraph.childNodes];
    // A formula KaTeX cannot parse: its source as text, in red, with KaTeX's reason as the tooltip.
    const error = broken as HTMLElement;
    expect([error.localName, error.className, error.textContent, error.style.color]).toEqual(["span", "katex-error", "\\frac{1}{", "rgb(204, 0, 0)"]);
    expect(error.title).toMatch(/^ParseError: KaTeX parse error: .+\\frac\{1\}\{$/);
    expect(error.children).toHaveLength(0);
    expect(between!.nodeType).toBe(Node.TEXT_NODE);
    expect(between!.textContent).toBe(" then ");
    // An unknown command: typeset, shown as its name in red, and its source kept for copying.
    const math = unknown as HTMLElement;
    expect(math.className).toBe("katex");
    expect(math.querySelector("annotation")?.textContent).toBe("\\notacommand");
    const shown = math.querySelector<HTMLElement>(".katex-html .mord.text")!;
    expect(shown.textContent).toBe("\\notacommand");
    expect(shown.style.color).toBe("rgb(204, 0, 0)");
  });
});
