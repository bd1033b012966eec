// The app's pages live in the URL fragment (#/chat …), so a reload keeps the page and no server routes are needed.
export const PAGES = ["chat", "models", "convert", "settings"] as const;
export type Page = (typeof PAGES)[number];

function pageFromHash(hash: string): Page {
  const name = hash.replace(/^#\/?/, "");
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : "chat";
}

export class Router {
  page: Page = $state("chat");

  constructor(private readonly location: Location) {
    this.page = pageFromHash(location.hash);
  }

  /** Follows back/forward and typed URLs; returns the function that stops following. */
  listen(target: Window): () => void {
    const update = () => (this.page = pageFromHash(this.location.hash));
    target.addEventListener("hashchange", update);
    return () => target.removeEventListener("hashchange", update);
  }

  href(page: Page): string {
    return `#/${page}`;
  }
}
