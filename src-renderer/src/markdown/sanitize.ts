// The last gate before model output reaches the page. markdown-it already runs with `html: false`, so raw
// HTML in an answer arrives as text; this pass holds even if a rule above it slips: no script, no event
// handler, no frame or form, nothing that loads a remote resource, links only to http(s) pages.
import DOMPurify from "dompurify";

/** A page on the web: the only kind of link an answer may hold. */
export function isWebUrl(href: string): boolean {
  try {
    const url = new URL(href);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** Images an answer may show: pixels carried inside the answer itself. SVG is left out (it is a document). */
export const DATA_IMAGE = /^data:image\/(?:png|gif|jpeg|webp);base64,[a-z0-9+/=\s]+$/i;

/**
 * Inline styles come only from KaTeX (heights, offsets, `\color`). The page's CSP (`style-src 'self'`) blocks
 * style attributes, even in the inert document DOMPurify parses into (each one a CSP report), so KaTeX's
 * output carries them as `data-math-style` (see `moveMathStyles`) and `applyMathStyles` sets them through
 * CSSOM, which the CSP allows. Only plain lengths and colours pass: no url(), no escapes, no quotes.
 */
const SAFE_STYLE = /^[a-z0-9\s.:;%#,()-]*$/i;
const UNSAFE_STYLE_WORDS = /url|image|expression|import|var\(|attr\(|\\/i;
export const MATH_STYLE_ATTRIBUTE = "data-math-style";

/**
 * KaTeX's HTML with its style attributes renamed. Safe as a string rewrite: KaTeX escapes every `"` in text
 * and attribute values, so ` style="` only ever starts one of its own attributes.
 */
export function moveMathStyles(katexHtml: string): string {
  return katexHtml.replaceAll(' style="', ` ${MATH_STYLE_ATTRIBUTE}="`);
}

const purifier = DOMPurify(window);

purifier.addHook("afterSanitizeAttributes", (node) => {
  if (!(node instanceof window.Element)) return;
  node.removeAttribute("style");
  const style = node.getAttribute(MATH_STYLE_ATTRIBUTE);
  if (style !== null && (!SAFE_STYLE.test(style) || UNSAFE_STYLE_WORDS.test(style))) node.removeAttribute(MATH_STYLE_ATTRIBUTE);
  const href = node.getAttribute("href");
  if (href !== null) {
    if (node.localName === "a" && isWebUrl(href)) {
      // Web mode opens it in a new tab that cannot reach back to this page; Electron hands it to the
      // system browser (the message view intercepts the click).
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    } else {
      node.removeAttribute("href");
    }
  }
  if (node.localName === "img" && !DATA_IMAGE.test(node.getAttribute("src") ?? "")) node.removeAttribute("src");
});

const CONFIG = {
  USE_PROFILES: { html: true, mathMl: true, svg: true },
  // KaTeX keeps the TeX source in <semantics><annotation> for screen readers and copying; it is text only
  // (unlike <annotation-xml>, which stays forbidden).
  ADD_TAGS: ["semantics", "annotation"],
  FORBID_TAGS: [
    "style", "link", "meta", "base", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
    "textarea", "select", "option", "video", "audio", "source", "track", "picture", "image", "use", "feImage",
    "foreignObject", "dialog", "template", "portal",
  ],
  // Its value is CSS, not an address: DOMPurify's URI check would drop it; the hook above checks it instead.
  ADD_ATTR: [MATH_STYLE_ATTRIBUTE],
  ADD_URI_SAFE_ATTR: [MATH_STYLE_ATTRIBUTE],
  FORBID_ATTR: ["style", "srcset", "ping", "formaction", "action", "background", "poster", "xlink:href", "lowsrc", "dynsrc", "autofocus"],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: true,
};

export function sanitizeHtml(html: string): string {
  return purifier.sanitize(html, CONFIG);
}

/** Gives the elements `sanitizeHtml` marked their KaTeX styles, through CSSOM. */
export function applyMathStyles(root: ParentNode): void {
  for (const element of root.querySelectorAll<HTMLElement | SVGElement>(`[${MATH_STYLE_ATTRIBUTE}]`)) {
    element.style.cssText = element.getAttribute(MATH_STYLE_ATTRIBUTE) ?? "";
    element.removeAttribute(MATH_STYLE_ATTRIBUTE);
  }
}
