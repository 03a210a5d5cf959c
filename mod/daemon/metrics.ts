import type { MetricSample } from "../core/mod.ts";

/**
 * Render samples in the Prometheus text exposition format (0.0.4): one HELP/TYPE block
 * per metric name, samples of the same name grouped under it.
 */
export function renderPrometheus(samples: MetricSample[]): string {
  const byName = new Map<string, MetricSample[]>();
  for (const s of samples) {
    const list = byName.get(s.name);
    if (list) list.push(s);
    else byName.set(s.name, [s]);
  }
  const out: string[] = [];
  for (const [name, list] of byName) {
    out.push(`# HELP ${name} ${list[0].help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    out.push(`# TYPE ${name} ${list[0].type}`);
    for (const s of list) out.push(`${name}${labels(s.labels)} ${formatValue(s.value)}`);
  }
  return out.join("\n") + "\n";
}

function labels(l: Record<string, string> | undefined): string {
  if (!l || Object.keys(l).length === 0) return "";
  const parts = Object.entries(l).map(([k, v]) =>
    `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`
  );
  return `{${parts.join(",")}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
