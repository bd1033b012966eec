// The colour theme: `data-theme="light|dark"` on <html> picks the CSS variables in styles/app.css. "system"
// resolves to the system's current choice and follows it when it changes.
import type { Settings } from "../../../src-main/contract/api.js";

export type Theme = Settings["theme"];
const STORAGE_KEY = "billa.theme";

/** The theme last applied, so a reload paints in it before the settings arrive from the services. */
export function rememberedTheme(storage: Storage | undefined = globalThis.localStorage): Theme {
  const saved = storage?.getItem(STORAGE_KEY);
  return saved === "light" || saved === "dark" ? saved : "system";
}

/** Applies `theme` to <html>; returns the function that stops following the system (for "system"). */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): () => void {
  // jsdom and very old engines have no matchMedia: there "system" means light.
  const media = typeof window.matchMedia === "function" ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  const set = () => (root.dataset["theme"] = theme === "system" ? (media?.matches ? "dark" : "light") : theme);
  set();
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, theme);
  } catch {
    // Storage can be unavailable (private windows); the theme still applies for this session.
  }
  if (theme !== "system" || !media) return () => undefined;
  media.addEventListener("change", set);
  return () => media.removeEventListener("change", set);
}
