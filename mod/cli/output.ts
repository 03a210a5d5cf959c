/** Write a line to stdout. */
export function out(text = ""): void {
  Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));
}

/** Write a line to stderr. */
export function err(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text + "\n"));
}

/** Render rows as an aligned plain-text table. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}
