// Copying text for the user: the Clipboard API where the page may use it, else the old way (select, then ask
// the browser to copy), which works where the Clipboard API is not granted (Electron's window denies
// permission requests; an insecure origin has none).

/** Copies `text`; `shown` is the element that displays it, selected for the fallback. Resolves to whether it worked. */
export async function copyText(text: string, shown: Element): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return copyBySelection(shown);
  }
}

function copyBySelection(shown: Element): boolean {
  if (shown instanceof HTMLInputElement || shown instanceof HTMLTextAreaElement) {
    shown.select();
    try {
      return document.execCommand("copy");
    } finally {
      shown.setSelectionRange(0, 0);
    }
  }
  const selection = window.getSelection();
  if (!selection) return false;
  const range = document.createRange();
  range.selectNodeContents(shown);
  selection.removeAllRanges();
  selection.addRange(range);
  try {
    return document.execCommand("copy");
  } finally {
    selection.removeAllRanges();
  }
}
