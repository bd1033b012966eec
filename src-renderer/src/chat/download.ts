// Saves a file the services produced (an export) the way both web mode and Electron understand: a Blob URL
// on an <a download>. Electron shows its save dialog for it; a browser downloads it.
export function downloadFile({ fileName, mimeType, content }: { fileName: string; mimeType: string; content: string }): void {
  const url = URL.createObjectURL(new Blob([content], { type: mimeType }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken the data by the next task; the URL is only a handle.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
