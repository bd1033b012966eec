// Paths the user types or the services report, handled as text: the renderer has no `node:path`, and the
// services run on whichever system the app runs on, so the separator is read from a path they gave us.

/** "\\" when `sample` is a Windows path (C:\…, \\server\…), "/" otherwise. */
export function separatorOf(sample: string): "/" | "\\" {
  return /^[A-Za-z]:\\|^\\\\/.test(sample) || (sample.includes("\\") && !sample.includes("/")) ? "\\" : "/";
}

export function joinPath(dir: string, name: string): string {
  const separator = separatorOf(dir);
  return dir.endsWith("/") || dir.endsWith("\\") ? `${dir}${name}` : `${dir}${separator}${name}`;
}

/** The last part of a path, ignoring a trailing separator. */
export function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  return trimmed.slice(Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\")) + 1);
}

export function parentDir(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  const cut = Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\"));
  return cut <= 0 ? trimmed.slice(0, cut + 1) : trimmed.slice(0, cut);
}

/** Quotes people paste around a path from a file manager ("C:\My Models\x.gguf") are not part of it. */
export function cleanTypedPath(text: string): string {
  return text.trim().replace(/^(["'])(.*)\1$/, "$2");
}
