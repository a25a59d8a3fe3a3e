// The status page's front when the daemon runs several lineages: one row per lineage,
// each linking to its own page (/lineages/<name>).
import { formatSkill } from '../core/format-skill.ts';
import { humanSeconds } from '../core/human-seconds.ts';
import { escapeHtml as escape } from './escape-html.ts';
import type { LineagesOverview } from './lineages-overview.ts';

const num = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : n.toPrecision(5));

export function renderOverviewPage(overview: LineagesOverview, { refreshSeconds = 15 }: { refreshSeconds?: number } = {}): string {
  const rows = overview.lineages
    .map((l) => {
      const href = `/lineages/${encodeURIComponent(l.lineage)}`;
      const champion = l.champion ? `v${l.champion.version} · ${escape(l.champion.metricName)} ${num(l.champion.metric)}` : '<span class="empty">none yet</span>';
      const skill = l.skill === null ? '-' : `<span${l.beatsNaive === false ? ' style="color:#b45309"' : ''}>${escape(formatSkill(l.skill))}</span>`;
      const decision = l.lastDecision ? `${escape(l.lastDecision.decision)} <time datetime="${escape(l.lastDecision.at)}">${escape(l.lastDecision.at)}</time>` : '-';
      return `<tr data-lineage="${escape(l.lineage)}"><td><a href="${escape(href)}">${escape(l.lineage)}</a></td><td>${champion}</td><td>${skill}</td><td>${escape(humanSeconds(l.championDataAgeSeconds))}</td><td>${decision}</td><td>${escape(l.triggers)}</td><td>${l.freshPartitions}</td><td>${l.waitingForMarker}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}
<title>freshet — ${overview.lineages.length} lineages</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #111; }
  h1 { font-size: 20px; } table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; }
  .empty { color: #777; }
</style>
</head>
<body>
<main>
<h1>freshet — ${overview.lineages.length} lineages</h1>
<p>Generated <time id="generated" datetime="${escape(overview.generatedAt)}">${escape(overview.generatedAt)}</time> · <a href="/metrics">/metrics</a> · <a href="/readyz">/readyz</a> · <a href="/v1/models">/v1/models</a></p>
<table id="lineages">
<thead><tr><th>lineage</th><th>champion</th><th>skill vs naive</th><th>data age</th><th>last decision</th><th>next retrain on</th><th>fresh partitions</th><th>waiting for marker</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
</main>
</body>
</html>
`;
}
