/**
 * Small server-drawn SVG charts: lines over a time axis and horizontal bars per name (no script: the page refreshes
 * itself and must read the same without a network). A charting library (uPlot, Chart.js) would need client script
 * and a bundle served from node_modules for five small charts; these draw the same with labelled axes.
 */
export interface Series {
  name: string;
  colour: string;
  values: number[];
}

const hhmm = (t: number) => new Date(t).toISOString().slice(11, 16);

/** A compact number for an axis label: 1200 → 1.2k. */
export function compact(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}

/** Lines over times `t` (ms, ascending; complete minutes only), with HH:MM (UTC) ticks below and the max at left. */
export function LineChart(p: {
  id: string;
  title: string;
  t: number[];
  series: Series[];
  unit?: string;
  width?: number;
  height?: number;
}) {
  const w = p.width ?? 420;
  const h = p.height ?? 130;
  const left = 44;
  const bottom = 18;
  const top = 8;
  const pw = w - left - 18; // room for the last HH:MM tick
  const ph = h - top - bottom;
  // All zero (or empty): a scale of 1, so the line sits on the axis and the label reads 1, not 1e-12.
  const max = Math.max(0, ...p.series.flatMap((s) => s.values)) || 1;
  const n = p.t.length;
  const x = (i: number) => left + (n > 1 ? (i * pw) / (n - 1) : pw);
  const y = (v: number) => top + ph - (v / max) * ph;
  // Up to five ticks, never two on one point (a window of two or three minutes has fewer).
  const ticks = [
    ...new Set(
      n > 1 ? [0, Math.floor((n - 1) / 4), Math.floor((n - 1) / 2), Math.floor((3 * (n - 1)) / 4), n - 1] : [0],
    ),
  ];
  return (
    <figure class="chart">
      <figcaption>
        {p.title}
        {p.series.length > 1
          ? p.series.map((s) => (
              <span class="legend" style={`color:${s.colour}`}>
                {" "}
                ■ {s.name}
              </span>
            ))
          : ""}
      </figcaption>
      <svg id={p.id} width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={p.title}>
        <line x1={left} y1={top + ph} x2={left + pw} y2={top + ph} stroke="#bbb" />
        <line x1={left} y1={top} x2={left + pw} y2={top} stroke="#eee" />
        <text x={left - 4} y={top + 8} font-size="10" fill="#666" text-anchor="end">
          {compact(max)}
          {p.unit ?? ""}
        </text>
        <text x={left - 4} y={top + ph} font-size="10" fill="#666" text-anchor="end">
          0
        </text>
        {n > 0
          ? ticks.map((i) => (
              <text class="tick" x={x(i)} y={h - 4} font-size="10" fill="#666" text-anchor="middle">
                {hhmm(p.t[i]!)}
              </text>
            ))
          : ""}
        {p.series.map((s) => (
          <polyline
            data-series={s.name}
            points={s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}
            fill="none"
            stroke={s.colour}
            stroke-width="2"
          />
        ))}
      </svg>
    </figure>
  );
}

export interface Bar {
  /** The name at the bar's left (an applet, a circuit). */
  label: string;
  value: number;
  /** The value as written beside the bar ("2.4 s", "123,456"). */
  text: string;
  /** A longer description on hover (the full circuit name, the number of samples). */
  title?: string;
}

/** Horizontal bars, one per name, the value written beside each; the value axis below is labelled (`axis`, 0 … max). */
export function BarChart(p: { id: string; title: string; axis: string; bars: Bar[]; colour?: string; width?: number }) {
  const w = p.width ?? 420;
  const row = 20;
  const left = 120;
  const right = 80; // room for the value beside the longest bar
  const top = 6;
  const bottom = 30; // the axis: 0 and max ticks, and its label
  const pw = w - left - right;
  const h = top + p.bars.length * row + bottom;
  const max = Math.max(0, ...p.bars.map((b) => b.value)) || 1;
  const axisY = top + p.bars.length * row;
  const fit = (s: string) => (s.length > 17 ? `${s.slice(0, 16)}…` : s);
  return (
    <figure class="chart">
      <figcaption>{p.title}</figcaption>
      <svg id={p.id} width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={p.title}>
        {p.bars.map((b, i) => {
          const y = top + i * row;
          const bw = Math.max(1, (b.value / max) * pw);
          return (
            <g data-bar={b.label}>
              <title>{b.title ?? `${b.label}: ${b.text}`}</title>
              <text class="bar-label" x={left - 6} y={y + 14} font-size="11" fill="#333" text-anchor="end">
                {fit(b.label)}
              </text>
              <rect
                class="bar"
                x={left}
                y={y + 3}
                width={bw.toFixed(1)}
                height={row - 6}
                fill={p.colour ?? "#2563eb"}
              />
              <text class="bar-value" x={left + bw + 4} y={y + 14} font-size="11" fill="#333">
                {b.text}
              </text>
            </g>
          );
        })}
        <line x1={left} y1={axisY} x2={left + pw} y2={axisY} stroke="#bbb" />
        <text class="tick" x={left} y={axisY + 12} font-size="10" fill="#666" text-anchor="middle">
          0
        </text>
        <text class="tick" x={left + pw} y={axisY + 12} font-size="10" fill="#666" text-anchor="middle">
          {compact(max)}
        </text>
        <text class="axis-label" x={left + pw / 2} y={axisY + 25} font-size="10" fill="#666" text-anchor="middle">
          {p.axis}
        </text>
      </svg>
    </figure>
  );
}
