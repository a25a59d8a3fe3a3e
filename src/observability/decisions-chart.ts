// The status page's decision chart: per gate decision over time, the skill of the
// candidate and of the champion it faced over the naive baseline on that decision's gate
// rows (1 − metric ÷ naive metric; for auc, (auc − 0.5) ÷ 0.5), in percent. The naive
// baseline is the 0% line by construction, so the three scores stay apart however close
// candidate and champion are to each other, and however far the constant is from both
// (plotting the raw metric scaled the axis to the naive line and flattened the two models
// into one). The axis spans the two models' skills; when the naive line (0%) lies far
// outside that span, it is not drawn to scale but named at the edge it lies beyond (a
// split axis), so two models at +99.3% and +99.6% stay apart. A filled dot marks a
// promotion, a hollow one a rejection; each point's tooltip gives the raw metrics. Labels
// sit in a legend above the plot, never on the lines.
import { escapeHtml as escape } from './escape-html.ts';
import type { StatusReport } from './status-report.ts';

type Decision = StatusReport['decisions'][number];

/** A skill in percent, with as many decimals as the tick step needs to tell ticks apart. */
const percent = (v: number, step: number): string => `${v >= 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(Math.max(0, Math.min(3, -Math.floor(Math.log10(step * 100)))))}%`;

/** "Nice" tick values covering [lo, hi] (about five), for a percent axis. */
function ticksFor(lo: number, hi: number): number[] {
  const span = hi - lo;
  const raw = span / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** The SVG, oldest decision left; null without a gate decision that has a naive baseline. */
export function decisionsChartSvg(decisions: readonly Decision[]): string | null {
  const gated = decisions.filter((d) => (d.decision === 'promoted' || d.decision === 'rejected') && d.candidateSkill !== null).slice().reverse();
  if (gated.length === 0) return null;
  const width = 720;
  const height = 260;
  const pad = { left: 78, right: 20, top: 34, bottom: 46 };
  const values = gated.flatMap((d) => [d.candidateSkill, d.championSkill]).filter((v): v is number => v !== null && Number.isFinite(v));
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  // The naive line joins the scale when it is near the models (within their spread again).
  const spread = Math.max(hi - lo, 0.002);
  const naiveOnScale = lo - spread <= 0 && 0 <= hi + spread;
  if (naiveOnScale) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  const margin = Math.max((hi - lo) * 0.1, 0.001);
  lo -= margin;
  hi += margin;
  const x = (i: number): number => pad.left + (gated.length === 1 ? 0.5 : i / (gated.length - 1)) * (width - pad.left - pad.right);
  const y = (v: number): number => pad.top + (1 - (v - lo) / (hi - lo)) * (height - pad.top - pad.bottom);
  const metric = gated[0]!.metricName ?? 'metric';
  const tip = (d: Decision): string =>
    escape(`${d.at}: ${d.decision}. ${metric} on the gate rows: candidate ${d.candidateMetric?.toPrecision(5) ?? '-'}, champion ${d.championMetric?.toPrecision(5) ?? '-'}, naive ${d.naiveName ?? ''} ${d.naiveMetric?.toPrecision(5) ?? '-'}`);
  const line = (pick: (d: Decision) => number | null, color: string, cls: string, dash = ''): string => {
    const pts = gated.map((d, i) => [i, pick(d)] as const).filter(([, v]) => v !== null && Number.isFinite(v));
    if (pts.length === 0) return '';
    return `<polyline class="${cls}" fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${pts.map(([i, v]) => `${x(i).toFixed(1)},${y(v!).toFixed(1)}`).join(' ')}"/>`;
  };
  const championDots = gated
    .map((d, i) => (d.championSkill === null ? '' : `<rect class="champion-point" x="${(x(i) - 3).toFixed(1)}" y="${(y(d.championSkill) - 3).toFixed(1)}" width="6" height="6" fill="#d62728"><title>${tip(d)}</title></rect>`))
    .join('\n');
  const candidateDots = gated
    .map((d, i) => `<circle class="candidate-point ${d.decision}" cx="${x(i).toFixed(1)}" cy="${y(d.candidateSkill!).toFixed(1)}" r="4.5" stroke="#1f77b4" stroke-width="2" fill="${d.decision === 'promoted' ? '#1f77b4' : 'white'}"><title>${tip(d)}</title></circle>`)
    .join('\n');
  const tickValues = ticksFor(lo, hi);
  const tickStep = tickValues.length > 1 ? tickValues[1]! - tickValues[0]! : hi - lo;
  const ticks = tickValues
    .map((t) => `<g class="tick"><line x1="${pad.left}" x2="${width - pad.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="${Math.abs(t) < tickStep / 1000 ? 'none' : '#eee'}"/><text x="${pad.left - 6}" y="${(y(t) + 4).toFixed(1)}" font-size="11" text-anchor="end">${percent(t, tickStep)}</text></g>`)
    .join('\n');
  const dates = [0, gated.length - 1]
    .filter((i, k, all) => all.indexOf(i) === k)
    .map((i) => `<text x="${x(i).toFixed(1)}" y="${height - pad.bottom + 16}" font-size="11" text-anchor="${i === 0 && gated.length > 1 ? 'start' : 'end'}">${escape(gated[i]!.at.slice(0, 16).replace('T', ' '))}</text>`)
    .join('\n');
  const legendItems = [
    ['#1f77b4', '', 'candidate (filled: promoted, hollow: rejected)'],
    ['#d62728', '', 'champion it faced'],
    ['#777', '5 4', 'naive baseline (0%)'],
  ] as const;
  let legendX = pad.left;
  const legend = legendItems
    .map(([color, dash, name]) => {
      const item = `<g transform="translate(${legendX},12)"><line x1="0" x2="22" y1="0" y2="0" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/><text x="28" y="4" font-size="11">${name}</text></g>`;
      legendX += 28 + name.length * 6.2 + 24; // ≈ 6.2 px a character at 11 px: items never overlap
      return item;
    })
    .join('\n');
  const naive = naiveOnScale
    ? `<line class="naive-line" x1="${pad.left}" x2="${width - pad.right}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#777" stroke-width="1.5" stroke-dasharray="5 4"/>`
    : `<g class="naive-line off-scale"><line x1="${pad.left}" x2="${width - pad.right}" y1="${(lo > 0 ? height - pad.bottom : pad.top).toFixed(1)}" y2="${(lo > 0 ? height - pad.bottom : pad.top).toFixed(1)}" stroke="#777" stroke-width="1.5" stroke-dasharray="5 4"/><text x="${width - pad.right - 4}" y="${(lo > 0 ? height - pad.bottom - 5 : pad.top + 13).toFixed(1)}" font-size="11" text-anchor="end" fill="#555">${lo > 0 ? '▼' : '▲'} naive baseline at 0%, ${lo > 0 ? 'below' : 'above'} this range (axis split)</text></g>`;
  return `<svg id="decisions-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="gate decisions: skill of the candidate and of the champion over the naive baseline on each decision's gate rows">
<rect x="${pad.left}" y="${pad.top}" width="${width - pad.left - pad.right}" height="${height - pad.top - pad.bottom}" fill="none" stroke="#ccc"/>
${legend}
${ticks}
${naive}
${line((d) => d.championSkill, '#d62728', 'champion-skill')}
${line((d) => d.candidateSkill, '#1f77b4', 'candidate-skill')}
${championDots}
${candidateDots}
${dates}
<text class="axis-label" x="${(pad.left + (width - pad.right)) / 2}" y="${height - 8}" font-size="11" text-anchor="middle">gate decisions, oldest → newest (${gated.length})</text>
<text class="axis-label" transform="translate(14,${(pad.top + height - pad.bottom) / 2}) rotate(-90)" font-size="11" text-anchor="middle">skill over the naive baseline, ${escape(metric)} (%)</text>
</svg>`;
}
