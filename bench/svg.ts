/**
 * The results chart, written by hand as SVG (no dependencies): horizontal bars of wskit / raw
 * per scenario and runtime with parity and the targets drawn in, the subject CPU time per
 * message as a ratio (the steadier figure on a shared machine), and the absolute RSS per
 * idle connection of all four subjects.
 *
 * @module
 */

import type { Summary } from "./report.ts";

const COLORS = { deno: "#2f6fdf", bun: "#e08a1e" } as const;
const WIDTH = 760;
const LABEL_W = 170;
const BAR_H = 14;
const PLOT_W = WIDTH - LABEL_W - 80;

interface Bar {
  name: string;
  value: number;
  color: string;
  text: string;
}
interface Row {
  label: string;
  bars: Bar[];
}
interface Mark {
  x: number;
  label: string;
  /** `parity` is the bare runtime (1x), `target` the goal. */
  kind: "parity" | "target";
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** One panel of bars; returns its SVG and its height. */
function panel(y0: number, title: string, rows: Row[], max: number, marks: Mark[]) {
  const out: string[] = [];
  const x = (v: number) => LABEL_W + Math.max(0, Math.min(v, max)) / max * PLOT_W;
  out.push(`<text x="10" y="${y0 + 16}" class="title">${esc(title)}</text>`);
  const top = y0 + 38;
  let y = top;
  for (const row of rows) {
    const mid = y + BAR_H * row.bars.length / 2 + 4;
    out.push(`<text x="${LABEL_W - 8}" y="${mid}" text-anchor="end">${esc(row.label)}</text>`);
    for (const bar of row.bars) {
      if (Number.isFinite(bar.value)) {
        const w = (x(bar.value) - LABEL_W).toFixed(1);
        const clipped = bar.value > max ? " (off scale)" : "";
        out.push(
          `<rect x="${LABEL_W}" y="${y}" width="${w}" height="${BAR_H - 2}" fill="${bar.color}">` +
            `<title>${esc(bar.name)}: ${esc(bar.text)}</title></rect>`,
          `<text x="${(x(bar.value) + 4).toFixed(1)}" y="${y + BAR_H - 4}" class="value">` +
            `${esc(bar.text + clipped)}</text>`,
        );
      } else {
        out.push(
          `<text x="${LABEL_W + 4}" y="${y + BAR_H - 4}" class="value">` +
            `${esc(bar.name)}: not measured</text>`,
        );
      }
      y += BAR_H;
    }
    y += 8;
  }
  for (const m of marks) {
    const at = x(m.x).toFixed(1);
    // Parity is labelled above the bars and the target below, so close lines stay legible.
    const labelY = m.kind === "parity" ? top - 6 : y + 8;
    out.push(
      `<line x1="${at}" y1="${top - 2}" x2="${at}" y2="${y - 4}" class="${m.kind}"/>`,
      `<text x="${at}" y="${labelY}" text-anchor="middle" class="value">${esc(m.label)}</text>`,
    );
  }
  return { svg: out.join("\n"), height: y + 22 - y0 };
}

/** The chart for `summary`, measured in the environment `env`. */
export function chart(summary: Summary, env: Record<string, unknown>): string {
  const parts: string[] = [];
  let y = 36;
  const add = (p: { svg: string; height: number }) => {
    parts.push(p.svg);
    y += p.height;
  };
  const find = (id: string) => summary.scenarios.find((s) => s.id === id);
  const ratioRows = (pairs: [string, string][], fig: string): Row[] =>
    pairs.filter(([id]) => find(id)).map(([id, label]) => ({
      label,
      bars: (["deno", "bun"] as const).map((rt) => {
        const v = find(id)?.ratios[rt]?.[fig] ?? NaN;
        return {
          name: rt === "deno" ? "Deno" : "Bun",
          value: v,
          color: COLORS[rt],
          text: `${v.toFixed(2)}x`,
        };
      }),
    }));
  const parity: Mark = { x: 1, label: "raw", kind: "parity" };
  /** A scale that fits the largest ratio (up to 3x; beyond that a bar says "off scale"). */
  const scale = (rows: Row[], least: number) =>
    Math.min(
      3,
      Math.max(
        least,
        ...rows.flatMap((r) => r.bars.map((b) => b.value * 1.2)).filter(Number.isFinite),
      ),
    );

  const through = ratioRows([
    ["echo_1", "echo, 1 conn"],
    ["echo_32", "echo, 32 conns"],
    ["echo_100", "echo, 100 conns"],
    ["chat", "chat (Bun's method)"],
    ["fanout", "1 to N fan-out"],
  ], "perSecond");
  if (through.length) {
    add(
      panel(
        y,
        "Throughput and deliveries per second, wskit / raw (higher is better)",
        through,
        scale(through, 1.5),
        [
          parity,
          { x: 0.97, label: "target 0.97", kind: "target" },
        ],
      ),
    );
  }
  const cpu = ratioRows([
    ["echo_1", "echo, 1 conn"],
    ["echo_32", "echo, 32 conns"],
    ["echo_100", "echo, 100 conns"],
    ["latency_open", "echo at a fixed rate"],
    ["chat", "chat (Bun's method)"],
    ["fanout", "1 to N fan-out"],
  ], "cpuUs");
  if (cpu.length) {
    add(
      panel(
        y,
        "Subject CPU time per message, wskit / raw (lower is better; steadier here)",
        cpu,
        scale(cpu, 1.6),
        [
          parity,
        ],
      ),
    );
  }
  const lat = ratioRows([
    ["latency_closed", "closed loop"],
    ["latency_open", "fixed rate"],
    ["fanout", "publish to receive"],
  ], "p99");
  if (lat.length) {
    add(panel(y, "p99 latency, wskit / raw (lower is better)", lat, scale(lat, 1.6), [
      parity,
      { x: 1.1, label: "target 1.10", kind: "target" },
    ]));
  }
  const idle = find("idle");
  if (idle) {
    const rows: Row[] = (["deno", "bun"] as const).map((rt) => ({
      label: rt === "deno" ? "Deno" : "Bun",
      bars: (["raw", "wskit"] as const).map((k) => {
        const v = idle.subjects[`${rt}_${k}`]?.kibPerConn?.median ?? NaN;
        return {
          name: k,
          value: v,
          color: k === "raw" ? "#9aa4b2" : COLORS[rt],
          text: `${k} ${v.toFixed(2)} KiB`,
        };
      }),
    }));
    const values = rows.flatMap((r) => r.bars.map((b) => Number.isFinite(b.value) ? b.value : 0));
    add(
      panel(
        y,
        "RSS per idle connection, KiB (target: wskit <= raw + 1 KiB)",
        rows,
        Math.max(4, ...values) * 1.3,
        [],
      ),
    );
  }
  const caption = [
    `${env.deno}, Bun ${env.bun}, ${env.cpus} x ${env.cpu}, ${
      env.pinned ? "subject on CPU 0, load client on CPU 1" : "not pinned"
    }, ${String(env.date).slice(0, 10)}.`,
    "Medians of the repetitions; bench/results/results.md has the ranges and absolute figures.",
  ];
  const h = y + 36;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${h}" viewBox="0 0 ${WIDTH} ${h}" font-family="system-ui, sans-serif" font-size="12">`,
    `<style>.title{font-weight:600;font-size:13px}.value{font-size:11px;fill:#333}` +
    `.target{stroke:#c33;stroke-dasharray:4 3}.parity{stroke:#555}</style>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="700">wskit against the bare runtime</text>`,
    `<rect x="${WIDTH - 150}" y="10" width="12" height="12" fill="${COLORS.deno}"/>`,
    `<text x="${WIDTH - 134}" y="20">Deno</text>`,
    `<rect x="${WIDTH - 90}" y="10" width="12" height="12" fill="${COLORS.bun}"/>`,
    `<text x="${WIDTH - 74}" y="20">Bun</text>`,
    ...parts,
    ...caption.map((line, i) =>
      `<text x="10" y="${y + 6 + 14 * i}" class="value">${esc(line)}</text>`
    ),
    `</svg>`,
    "",
  ].join("\n");
}
