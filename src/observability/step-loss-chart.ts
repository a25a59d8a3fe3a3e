// The status page's step-level loss chart: the training loss every logged step (grey),
// smoothed as the knee rule smooths it (blue), on log axes so the early descent, where
// the knee usually is, is not squeezed into the first pixel; the knee and the checkpoint
// chosen at or before it are marked.
import type { PlateauReport } from '../selection/index.ts';
import { escapeHtml } from './escape-html.ts';

const escape = escapeHtml;

/** The SVG; null when there are fewer than two positive loss points to draw. */
export function stepLossChartSvg(curve: PlateauReport): string | null {
  const points = curve.steps.filter((p) => p.step > 0 && p.loss > 0 && p.smoothed > 0);
  if (points.length < 2) return null;
  const width = 720;
  const height = 240;
  const pad = { left: 68, right: 16, top: 16, bottom: 36 };
  const values = points.flatMap((p) => [p.loss, p.smoothed]);
  const lo = Math.log(Math.min(...values));
  const hi = Math.log(Math.max(...values));
  const first = Math.log(points[0]!.step);
  const last = Math.log(points.at(-1)!.step);
  const x = (step: number): number => pad.left + ((Math.log(step) - first) / (last - first || 1)) * (width - pad.left - pad.right);
  const y = (loss: number): number => pad.top + (1 - (Math.log(loss) - lo) / (hi - lo || 1)) * (height - pad.top - pad.bottom);
  const line = (pick: (p: (typeof points)[number]) => number): string => points.map((p) => `${x(p.step).toFixed(1)},${y(pick(p)).toFixed(1)}`).join(' ');
  const levelAt = (step: number): number => (points.filter((p) => p.step <= step).at(-1) ?? points[0]!).smoothed;
  const knee = curve.kneeStep === null ? '' : `<g class="knee-marker"><line x1="${x(curve.kneeStep).toFixed(1)}" x2="${x(curve.kneeStep).toFixed(1)}" y1="${pad.top}" y2="${height - pad.bottom}" stroke="#d97706" stroke-dasharray="4 3"/><text x="${(x(curve.kneeStep) + 4).toFixed(1)}" y="${pad.top + 12}" font-size="11" fill="#d97706">knee (step ${curve.kneeStep})</text></g>`;
  const chosen =
    curve.chosenStep === null || curve.chosenStep <= 0
      ? ''
      : `<g class="chosen-step-marker"><circle cx="${x(curve.chosenStep).toFixed(1)}" cy="${y(levelAt(curve.chosenStep)).toFixed(1)}" r="6" fill="none" stroke="#dc2626" stroke-width="2.5"/><text x="${(x(curve.chosenStep) + 9).toFixed(1)}" y="${(y(levelAt(curve.chosenStep)) + 16).toFixed(1)}" font-size="11" fill="#dc2626">pre-plateau candidate (step ${curve.chosenStep})</text></g>`;
  return `<svg id="step-loss-curve" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="training loss per logged step, log axes, with the knee and the pre-plateau candidate checkpoint">
  <title>Training loss per logged step (log axes). ${escape(curve.reason)}</title>
  <rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>
  ${[Math.exp(lo), Math.exp((lo + hi) / 2), Math.exp(hi)].map((t) => `<g class="tick"><line x1="${pad.left}" x2="${width - pad.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/><text x="${pad.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${t.toPrecision(3)}</text></g>`).join('\n  ')}
  <text x="${pad.left}" y="${height - 8}" font-size="11">step ${points[0]!.step}</text>
  <text class="axis-label" x="${(pad.left + width - pad.right) / 2}" y="${height - 8}" font-size="11" text-anchor="middle">optimizer step (log axis)</text>
  <text x="${width - pad.right}" y="${height - 8}" font-size="11" text-anchor="end">step ${points.at(-1)!.step}</text>
  <text class="axis-label" transform="translate(12,${(pad.top + height - pad.bottom) / 2}) rotate(-90)" font-size="11" text-anchor="middle">training loss, ${escape(curve.lossName)} (log)</text>
  <polyline class="raw-loss" points="${line((p) => p.loss)}" fill="none" stroke="#cbd5e1" stroke-width="1"/>
  <polyline class="smoothed-loss" points="${line((p) => p.smoothed)}" fill="none" stroke="#2563eb" stroke-width="2"/>
  ${knee}
  ${chosen}
</svg>`;
}
