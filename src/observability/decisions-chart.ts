// The status page's decision chart: per gate decision over time, the candidate's, the
// champion's and the naive baseline's score on that decision's gate rows; a filled dot
// marks a promotion, a hollow one a rejection. Whether the model beats the constant, and
// whether the gate picks the better model, is seen at a glance.
import type { StatusReport } from './status-report.ts';

type Decision = StatusReport['decisions'][number];

/** The SVG, oldest decision left; null with fewer than one gate decision. */
export function decisionsChartSvg(decisions: readonly Decision[]): string | null {
  const gated = decisions.filter((d) => (d.decision === 'promoted' || d.decision === 'rejected') && d.candidateMetric !== null).slice().reverse();
  if (gated.length === 0) return null;
  const width = 720;
  const height = 220;
  const pad = { left: 56, right: 110, top: 16, bottom: 28 };
  const values = gated.flatMap((d) => [d.candidateMetric, d.championMetric, d.naiveMetric]).filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo || Math.abs(hi) || 1;
  const x = (i: number): number => pad.left + (gated.length === 1 ? 0.5 : i / (gated.length - 1)) * (width - pad.left - pad.right);
  const y = (v: number): number => pad.top + (1 - (v - lo) / span) * (height - pad.top - pad.bottom);
  const series = (pick: (d: Decision) => number | null, color: string, name: string, dash = ''): string => {
    const pts = gated.map((d, i) => [i, pick(d)] as const).filter(([, v]) => v !== null && Number.isFinite(v));
    if (pts.length === 0) return '';
    const last = pts.at(-1)!;
    return `<polyline fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${pts.map(([i, v]) => `${x(i).toFixed(1)},${y(v!).toFixed(1)}`).join(' ')}"/>
<text x="${(x(last[0]) + 8).toFixed(1)}" y="${(y(last[1]!) + 4).toFixed(1)}" font-size="11" fill="${color}">${name}</text>`;
  };
  const dots = gated
    .map((d, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(d.candidateMetric!).toFixed(1)}" r="4" stroke="#1f77b4" stroke-width="2" fill="${d.decision === 'promoted' ? '#1f77b4' : 'white'}"><title>${d.at}: ${d.decision}</title></circle>`)
    .join('\n');
  const ticks = [lo, (lo + hi) / 2, hi].map((v) => `<text x="${pad.left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${v.toPrecision(4)}</text>`).join('\n');
  return `<svg id="decisions-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="gate decisions: candidate, champion and naive baseline on each decision's gate rows">
<rect x="${pad.left}" y="${pad.top}" width="${width - pad.left - pad.right}" height="${height - pad.top - pad.bottom}" fill="none" stroke="#ccc"/>
${ticks}
${series((d) => d.naiveMetric, '#999', 'naive', '5 4')}
${series((d) => d.championMetric, '#d62728', 'champion')}
${series((d) => d.candidateMetric, '#1f77b4', 'candidate')}
${dots}
<text x="${pad.left}" y="${height - 8}" font-size="11">${gated.length} decisions, oldest left · ${gated[0]!.metricName ?? ''} on each decision's gate rows (lower is better${gated[0]!.metricName === 'auc' ? ', except auc' : ''}) · filled: promoted, hollow: rejected</text>
</svg>`;
}
