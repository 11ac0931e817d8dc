/**
 * A self-contained SVG of the run: panels side by side (main.ts: orders/s, p50 / p99 latency on
 * a log scale, machine CPU per order), each a line per system against concurrency. Hand-written
 * SVG, no plotting dependency.
 */
export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  /** y per concurrency level, null where not measured. */
  values: (number | null)[];
}

export interface Panel {
  title: string;
  yLabel: string;
  log?: boolean;
  series: Series[];
}

const PANEL_W = 460;
const PANEL_H = 320;
const M = { left: 60, right: 16, top: 34, bottom: 46 };

export function renderChart(levels: number[], panels: Panel[], caption: string): string {
  const width = PANEL_W * panels.length + 20;
  const height = PANEL_H + 90;
  const body = panels.map((panel, i) => renderPanel(levels, panel, 10 + i * PANEL_W)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
${body}
<text x="${width / 2}" y="${height - 8}" text-anchor="middle" fill="#555" font-size="11">${escape(caption)}</text>
</svg>
`;
}

function renderPanel(levels: number[], panel: Panel, x0: number): string {
  const plotW = PANEL_W - M.left - M.right;
  const plotH = PANEL_H - M.top - M.bottom;
  const all = panel.series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0);
  const max = niceCeil(Math.max(1, ...all));
  const min = panel.log ? niceFloor(Math.min(max, ...all)) : 0;
  const yOf = (v: number) => {
    const f = panel.log
      ? (Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min) || 1)
      : v / max;
    return M.top + plotH - f * plotH;
  };
  const xOf = (i: number) =>
    x0 + M.left + (levels.length === 1 ? plotW / 2 : (i / (levels.length - 1)) * plotW);
  const ticks = panel.log ? logTicks(min, max) : [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);

  const parts: string[] = [];
  parts.push(
    `<text x="${x0 + PANEL_W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escape(panel.title)}</text>`,
  );
  for (const tick of ticks) {
    const y = yOf(tick);
    parts.push(
      `<line x1="${x0 + M.left}" x2="${x0 + M.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
    );
    parts.push(
      `<text x="${x0 + M.left - 6}" y="${y + 4}" text-anchor="end" fill="#555">${formatTick(tick)}</text>`,
    );
  }
  levels.forEach((level, i) => {
    parts.push(
      `<text x="${xOf(i)}" y="${M.top + plotH + 16}" text-anchor="middle" fill="#555">${level}</text>`,
    );
  });
  parts.push(
    `<text x="${x0 + M.left + plotW / 2}" y="${M.top + plotH + 34}" text-anchor="middle">concurrency (orders in flight)</text>`,
  );
  parts.push(
    `<text transform="translate(${x0 + 14},${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(panel.yLabel)}</text>`,
  );
  parts.push(
    `<rect x="${x0 + M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  );

  panel.series.forEach((series, s) => {
    const points = series.values
      .map((v, i) => (v === null || v <= 0 ? null : `${xOf(i).toFixed(1)},${yOf(v).toFixed(1)}`))
      .filter((p): p is string => p !== null);
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(
      `<polyline points="${points.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2"${dash}/>`,
    );
    for (const p of points) {
      const [x, y] = p.split(',');
      parts.push(`<circle cx="${x}" cy="${y}" r="3" fill="${series.color}"/>`);
    }
    const ly = M.top + 12 + s * 15;
    const lx = x0 + M.left + 8;
    parts.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${series.color}" stroke-width="2"${dash}/>`,
    );
    parts.push(`<text x="${lx + 22}" y="${ly}">${escape(series.name)}</text>`);
  });
  return parts.join('\n');
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function niceFloor(v: number): number {
  return 10 ** Math.floor(Math.log10(Math.max(v, 1e-3)));
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let p = min; p <= max * 1.0001; p *= 10) {
    for (const m of [1, 2, 5]) if (p * m <= max * 1.0001) ticks.push(p * m);
  }
  return ticks;
}

function formatTick(v: number): string {
  return v >= 1000 ? `${v / 1000}k` : `${Math.round(v * 100) / 100}`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
