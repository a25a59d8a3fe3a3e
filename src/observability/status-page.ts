// The status page at `/`: server-rendered HTML with inline SVG charts. No build step and no
// external asset: it reads the same without JavaScript, and in a terminal browser the
// tables still make sense. With JavaScript, one small inline script refreshes the page's
// content in place every http.refreshSeconds (fetch `/`, swap <main>, keep open details), so a
// person watching it sees new decisions without reloading.
import type { PlateauReport } from '../selection/index.ts';
import { humanSeconds } from '../core/human-seconds.ts';
import { forwardCheckWords, type StatusReport } from './status-report.ts';
import { decisionsChartSvg } from './decisions-chart.ts';
import { stepLossChartSvg } from './step-loss-chart.ts';
import { escapeHtml } from './escape-html.ts';
import { formatSkill } from '../promotion/index.ts';

const escape = escapeHtml;

const num = (n: number | null | undefined): string => (n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toPrecision(4));

/** A cell already rendered as HTML (a folded reason); any other cell is text, escaped. */
interface HtmlCell {
  html: string;
}

function table(headers: string[], rows: unknown[][], id: string, empty = 'none yet'): string {
  if (rows.length === 0) return `<p id="${id}" class="empty">${escape(empty)}</p>`;
  const head = headers.map((h) => `<th>${escape(h)}</th>`).join('');
  const cell = (value: unknown): string => (typeof value === 'object' && value !== null && 'html' in value ? (value as HtmlCell).html : escape(value));
  const body = rows.map((row) => `<tr>${row.map((value) => `<td>${cell(value)}</td>`).join('')}</tr>`).join('\n');
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The newest decision's slices (eval.slices): candidate and champion per value, worst first; nothing when no decision scored slices. */
function sliceTable(decision: StatusReport['decisions'][number] | undefined): string {
  if (!decision?.slices) return '';
  const change = (r: number): string => `${r > 0 ? '+' : r < 0 ? '−' : ''}${Math.abs(100 * r).toFixed(1)}%`;
  return `<h3>Slices of the newest decision that scored them (${escape(decision.at)}, ${escape(decision.decision)})</h3>
${table(['slice', 'gate rows', `candidate ${decision.metricName ?? ''}`, 'champion', 'candidate worse by'], decision.slices.map((s) => [`${s.column}=${s.value}`, s.rows, num(s.candidate), num(s.champion), change(s.regression)]), 'slices', 'no slice value had enough gate rows (eval.minSliceRows)')}`;
}

/**
 * A long reason folded to one line: its first clause (to the first colon, semicolon or
 * sentence end, at most 90 characters) as the summary, the whole text on demand. The id
 * lets the refresh keep a reason open that the reader opened.
 */
export function foldedReason(reason: string, id: string): HtmlCell {
  const first = /^(?:[^:;.]|\.(?=\d))*(?:[:;.]|$)/.exec(reason)?.[0] ?? reason; // a dot inside a number does not end a clause
  const clause = first.replace(/[:;.]$/, '');
  if (clause === reason || first === reason) return { html: escape(reason) };
  const short = clause.length > 90 ? `${clause.slice(0, 88)}…` : `${clause} …`;
  return { html: `<details class="reason" id="${escape(id)}"><summary>${escape(short)}</summary>${escape(reason)}</details>` };
}

/**
 * The training (and validation) loss per virtual epoch on a log scale, with the plateau
 * start, the checkpoint the plateau rule chooses before it, and — when the model was
 * retrained — the base checkpoint it actually started from (retrain.base decides that).
 */
export function lossCurveSvg(curve: PlateauReport): string {
  const width = 720;
  const height = 240;
  const pad = { left: 68, right: 16, top: 16, bottom: 36 };
  const points = curve.points;
  const values = points.flatMap((p) => [p.trainLoss, p.valLoss]).filter((v): v is number => v !== null && Number.isFinite(v) && v > 0);
  const lo = Math.log(Math.min(...values));
  const hi = Math.log(Math.max(...values));
  const span = hi - lo || 1;
  const epochs = points.map((p) => p.virtualEpoch);
  const first = Math.min(...epochs);
  const last = Math.max(...epochs);
  const x = (epoch: number): number => pad.left + ((epoch - first) / (last - first || 1)) * (width - pad.left - pad.right);
  const y = (loss: number): number => pad.top + (1 - (Math.log(loss) - lo) / span) * (height - pad.top - pad.bottom);
  const line = (pick: (p: PlateauReport['points'][number]) => number | null): string =>
    points
      .filter((p) => pick(p) !== null && pick(p)! > 0)
      .map((p) => `${x(p.virtualEpoch).toFixed(1)},${y(pick(p)!).toFixed(1)}`)
      .join(' ');
  const chosen = points.find((p) => p.virtualEpoch === curve.chosenEpoch); // absent when the knee rule chose a checkpoint inside the first epoch
  // The run's base: the last point of its parent run on the chain, if it has one.
  const firstOwn = points.findIndex((p) => p.run === curve.run);
  const base = firstOwn > 0 ? points[firstOwn - 1]! : undefined;
  const plateauX = curve.plateauStartEpoch === null ? null : x(curve.plateauStartEpoch);
  const ticks = [Math.exp(lo), Math.exp((lo + hi) / 2), Math.exp(hi)];
  // A label near the right edge goes on the left of its mark, so it is not cut off.
  const label = (px: number, py: number, color: string, text: string): string =>
    px > width * 0.65
      ? `<text x="${(px - 9).toFixed(1)}" y="${py.toFixed(1)}" font-size="11" fill="${color}" text-anchor="end">${text}</text>`
      : `<text x="${(px + 9).toFixed(1)}" y="${py.toFixed(1)}" font-size="11" fill="${color}">${text}</text>`;
  return `<svg id="loss-curve" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="training loss per virtual epoch, log scale">
  <title>Training loss per virtual epoch (log scale). ${escape(curve.reason)}</title>
  <rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>
  ${ticks.map((t) => `<g class="tick"><line x1="${pad.left}" x2="${width - pad.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/><text x="${pad.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${t.toPrecision(3)}</text></g>`).join('\n  ')}
  <text x="${pad.left}" y="${height - 8}" font-size="11">${first}</text>
  <text class="axis-label" x="${(pad.left + width - pad.right) / 2}" y="${height - 8}" font-size="11" text-anchor="middle">virtual epoch</text>
  <text x="${width - pad.right}" y="${height - 8}" font-size="11" text-anchor="end">${last}</text>
  <text class="axis-label" transform="translate(12,${(pad.top + height - pad.bottom) / 2}) rotate(-90)" font-size="11" text-anchor="middle">loss, ${escape(curve.lossName)} (log)</text>
  ${plateauX === null ? '' : `<g class="plateau-marker"><line x1="${plateauX.toFixed(1)}" x2="${plateauX.toFixed(1)}" y1="${pad.top}" y2="${height - pad.bottom}" stroke="#d97706" stroke-dasharray="4 3"/><text x="${(plateauX + 4).toFixed(1)}" y="${pad.top + 12}" font-size="11" fill="#d97706">plateau starts (epoch ${curve.plateauStartEpoch})</text></g>`}
  <polyline class="val-loss" points="${line((p) => p.valLoss)}" fill="none" stroke="#9ca3af" stroke-width="1.5" stroke-dasharray="5 3"/>
  <polyline class="train-loss" points="${line((p) => p.trainLoss)}" fill="none" stroke="#2563eb" stroke-width="2"/>
  ${chosen ? `<g class="chosen-marker"><circle cx="${x(chosen.virtualEpoch).toFixed(1)}" cy="${y(chosen.trainLoss).toFixed(1)}" r="6" fill="none" stroke="#dc2626" stroke-width="2.5"/>${label(x(chosen.virtualEpoch), y(chosen.trainLoss) - 9, '#dc2626', `pre-plateau candidate (epoch ${chosen.virtualEpoch})`)}</g>` : ''}
  ${base ? `<g class="base-marker"><rect x="${(x(base.virtualEpoch) - 5).toFixed(1)}" y="${(y(base.trainLoss) - 5).toFixed(1)}" width="10" height="10" fill="none" stroke="#059669" stroke-width="2.5"/>${label(x(base.virtualEpoch), y(base.trainLoss) + 16, '#059669', `this model's base (epoch ${base.virtualEpoch})`)}</g>` : ''}
</svg>`;
}

export function renderStatusPage(report: StatusReport, { refreshSeconds = 15 }: { refreshSeconds?: number } = {}): string {
  const c = report.champion;
  const f = report.freshness;
  const champion = c
    ? `<dl id="champion"><dt>version</dt><dd>v${c.version}</dd><dt>${escape(c.metricName)}</dt><dd>${num(c.metric)}</dd><dt>run</dt><dd>${escape(c.run)}</dd><dt>champion since</dt><dd>${escape(c.promotedAt)}</dd><dt>serving</dt><dd>${escape(c.servingUri)}</dd></dl>`
    : '<p id="champion" class="empty">no champion yet</p>';
  const curve = report.lossCurve
    ? `${stepLossChartSvg(report.lossCurve) ?? ''}\n${lossCurveSvg(report.lossCurve)}\n<p class="reason">${escape(report.lossCurve.reason)}</p>
<p class="legend"><span class="swatch train"></span> training loss <span class="swatch val"></span> validation loss (log scale)</p>`
    : '<p id="loss-curve" class="empty">no finished run yet</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>freshet — ${escape(report.lineage)}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1000px; padding: 0 16px; color: #111; }
  h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; border-bottom: 1px solid #ddd; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
  dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; } dt { color: #555; } dd { margin: 0; font-weight: 600; }
  .empty { color: #777; } .reason { color: #444; } details.reason summary { cursor: pointer; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 34em; }
  #refresh { color: #777; }
  .swatch { display: inline-block; width: 18px; height: 3px; vertical-align: middle; } .train { background: #2563eb; } .val { background: #9ca3af; }
</style>
</head>
<body>
<main>
<h1>freshet — lineage ${escape(report.lineage)}</h1>
<p>Generated <time id="generated" datetime="${escape(report.generatedAt)}">${escape(report.generatedAt)}</time> · schema ${escape(report.schemaVersion)} · <a href="/metrics">/metrics</a> · <a href="/readyz">/readyz</a> · <span id="refresh">${refreshSeconds > 0 ? `refreshed in place every ${refreshSeconds} s with JavaScript` : 'reload to refresh'}</span></p>
<h2>Champion</h2>
${champion}
<h2>Data freshness</h2>
<dl id="freshness"><dt>champion's newest data</dt><dd>${escape(f.championDataArrivedAt)} (${humanSeconds(f.championDataAgeSeconds)} old)</dd><dt>newest partition</dt><dd>${escape(f.newestPartitionArrivedAt)}</dd><dt>fresh partitions</dt><dd>${f.partitionsWaiting} not learned by the champion, ${f.partitionsUntried} not yet tried</dd>
<dt>partitions</dt><dd>${Object.entries(report.partitions).map(([k, v]) => `${escape(k)} ${v}`).join(' · ') || '-'}</dd>
<dt>invalid rows</dt><dd id="invalid-rows">${report.invalidRows} in the registered partitions (skipped by training)</dd>
<dt>waiting for their marker</dt><dd id="awaiting-marker"${report.awaitingMarker.count > 0 ? ' class="warning" style="color:#b45309"' : ''}>${report.awaitingMarker.count === 0 ? 'none' : `${report.awaitingMarker.count}: ${escape(report.awaitingMarker.paths.slice(0, 5).join(', '))}${report.awaitingMarker.count > 5 ? ', …' : ''} — the oldest for ${humanSeconds(report.awaitingMarker.oldestSeconds)}; not trained on until marked`}</dd></dl>
<h2>Data quality</h2>
<h3>Quarantined partitions</h3>
${table(['id', 'path', 'v', 'arrived', 'why (freshet partitions accept | reject ID --reason …)'], report.quarantined.map((q) => [q.id, q.path, q.version, q.arrivedAt, q.reason]), 'quarantined', 'none: every new partition met the schema')}
<h3>Drift of the fresh partitions against the champion's training data (the most drifted partition per column)</h3>
${table(['column', 'measure', 'value', 'threshold', 'drifted', 'partition', 'fresh / reference partitions', 'computed'], report.drift.map((d) => [d.column, d.method === 'psi' ? 'PSI' : 'Jensen–Shannon distance', num(d.value), d.threshold === null ? 'ignored' : num(d.threshold), d.drifted ? 'DRIFT' : 'no', d.partition ?? 'none fresh', `${d.freshPartitions} / ${d.referencePartitions}`, d.computedAt]), 'drift', 'no drift computed: no champion yet, or no fresh partition')}
<h2>Loss curve behind the champion</h2>
${curve}
<h2>Against the naive baseline</h2>
${forwardCheckHtml(report)}
<h2>Recent decisions</h2>
${decisionsChartSvg(report.decisions) ?? ''}
${table(['at', 'decision', 'metric', 'candidate', 'champion', 'naive', 'candidate skill', 'gate rows', 'actor', 'reason'], report.decisions.map((d) => [d.at, d.decision, d.metricName, num(d.candidateMetric), num(d.championMetric), num(d.naiveMetric), formatSkill(d.candidateSkill), d.holdout, d.actor, foldedReason(d.reason, `decision-${d.id}`)]), 'decisions')}
${sliceTable(report.decisions.find((d) => d.slices !== null))}
<h2>Latest runs</h2>
${table(['run', 'kind', 'status', 'started', 'finished', 'base checkpoint', 'val loss', 'invalid rows', 'error'], report.runs.map((r) => [r.id, r.kind, r.stillFalling ? `${r.status}, loss still falling` : r.status, r.startedAt, r.finishedAt, r.baseCheckpoint, num(r.valLoss), r.invalidRows, r.error === null ? null : foldedReason(r.error, `run-error-${r.id}`)]), 'runs')}
<h2>Job queue</h2>
<p id="job-counts">${Object.entries(report.jobs).map(([k, v]) => `${escape(k)} ${v}`).join(' · ') || 'no job yet'}</p>
<h3>Running and queued</h3>
${table(['job', 'state', 'attempts', 'held by', 'lease until', 'last error'], report.activeJobs.map((j) => [j.id, j.state, j.attempts, j.lockedBy, j.leaseExpiresAt, j.lastError]), 'jobs', 'none running or queued now')}
<h3>Recent jobs</h3>
${table(['job', 'state', 'trigger', 'attempts', 'created', 'finished', 'took', 'last error'], report.recentJobs.map((j) => [j.id, j.state, j.trigger, j.attempts, j.createdAt, j.finishedAt, j.seconds === null ? null : humanSeconds(j.seconds), j.lastError === null ? null : foldedReason(j.lastError, `job-error-${j.id}`)]), 'recent-jobs', 'no job yet')}
</main>
${refreshSeconds > 0 ? refreshScript(refreshSeconds) : ''}
</body>
</html>
`;
}

/** Refresh in place: fetch the page, swap <main>, keep the reasons the reader opened. */
function refreshScript(seconds: number): string {
  return `<script>
setInterval(async () => {
  try {
    const response = await fetch(location.href, { cache: 'no-store' });
    if (!response.ok) return;
    const next = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('main');
    const open = [...document.querySelectorAll('details[open]')].map((d) => d.id);
    if (!next) return;
    document.querySelector('main').replaceWith(next);
    for (const id of open) document.getElementById(id)?.setAttribute('open', '');
  } catch {
    // the daemon restarting: the next tick tries again
  }
}, ${seconds * 1000});
</script>`;
}

/** The forward check in words, with a warning people cannot miss when the model loses to a constant. */
function forwardCheckHtml(report: StatusReport): string {
  if (!report.forwardCheck) return '<p id="forward-check" class="empty">no gate decision with a naive baseline yet</p>';
  const { summary, warning } = forwardCheckWords(report.forwardCheck);
  if (!warning) return `<p id="forward-check">${escape(summary)}</p>`;
  const sentence = warning.charAt(0).toUpperCase() + warning.slice(1);
  return `<p id="forward-check" class="warning" style="color:#b00;font-weight:bold">${escape(sentence)}; ${escape(summary)}.</p>`;
}
