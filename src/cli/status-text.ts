// `freshet status` for people: the status report as aligned text.
import { formatTable } from '../core/table.ts';
import { humanSeconds } from '../core/human-seconds.ts';
import { forwardCheckWords, type LineagesOverview, type StatusReport } from '../observability/index.ts';
import { formatSkill } from '../promotion/index.ts';

const num = (n: number | null | undefined): string | null => (n === null || n === undefined ? null : n.toPrecision(5));

export function formatStatus(report: StatusReport): string {
  const { champion: c, freshness: f } = report;
  const registry = report;
  const lines = [
    `lineage ${report.lineage}`,
    c ? `champion: v${c.version}${c.constant ? ` (the naive ${c.constant.name} ${num(c.constant.value)}, eval.fallback naive)` : ''}, ${c.metricName} ${num(c.metric)}, run ${c.run}, since ${c.promotedAt}` : 'champion: none yet',
    `freshness: champion's newest data ${f.championDataArrivedAt ?? '-'} (${humanSeconds(f.championDataAgeSeconds)} old); newest partition ${f.newestPartitionArrivedAt ?? '-'}; ${f.partitionsWaiting} fresh partitions (not learned by the champion; ${f.partitionsUntried} not yet tried by any run)`,
    forwardLine(report),
    `partitions: ${Object.entries(report.partitions).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}${report.invalidRows > 0 ? `; ${report.invalidRows} invalid rows in the registered ones (skipped by training: \`freshet partitions\` says where)` : ''}`,
    ...(report.awaitingMarker.count > 0 ? [awaitingLine(report.awaitingMarker)] : []),
    ...(report.quarantined.length > 0 ? [`quarantined: ${report.quarantined.map((q) => `${q.id} ${q.path}`).join(', ')} — not trained on until \`freshet partitions accept|reject ID --reason …\` (\`freshet partitions --status quarantined\` says why)`] : []),
    ...(report.drift.some((d) => d.drifted) ? [`drift: ${report.drift.filter((d) => d.drifted).map((d) => `${d.column} ${d.method === 'psi' ? 'PSI' : 'JS'} ${num(d.value)} > ${num(d.threshold)} in ${d.partition}`).join(', ')} (fresh partitions against the champion's training data)`] : []),
    `jobs: ${Object.entries(report.jobs).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
  ];
  if (report.activeJobs.length) lines.push('', formatTable(['job', 'state', 'attempts', 'held by', 'lease until', 'last error'], report.activeJobs.map((j) => [j.id, j.state, j.attempts, j.lockedBy, j.leaseExpiresAt, j.lastError])));
  if (report.decisions.length) {
    lines.push('', 'last decisions', formatTable(['at', 'decision', 'metric', 'candidate', 'champion', 'naive', 'skill', 'gate rows', 'reason'], report.decisions.slice(0, 5).map((d) => [d.at, d.decision, d.metricName, num(d.candidateMetric), num(d.championMetric), num(d.naiveMetric), formatSkill(d.candidateSkill), d.holdout, d.reason])));
  }
  if (report.runs.length) {
    lines.push('', 'latest runs', formatTable(['run', 'kind', 'status', 'started', 'finished', 'val loss', 'invalid rows'], report.runs.slice(0, 5).map((r) => [r.id, r.kind, r.stillFalling ? `${r.status}, loss still falling` : r.status, r.startedAt, r.finishedAt, num(r.valLoss), r.invalidRows])));
  }
  lines.push('', `schema version: ${registry.schemaVersion ?? '(not migrated)'}`);
  if (registry.pendingMigrations.length) lines.push(`pending migrations: ${registry.pendingMigrations.join(', ')} (run \`freshet migrate\`)`);
  if (Object.keys(registry.tables).length) lines.push('', formatTable(['table', 'rows'], Object.entries(registry.tables)));
  return lines.join('\n');
}

/** Partitions a producer has not marked complete: invisible to training until it does. */
export function awaitingLine(waiting: StatusReport['awaitingMarker']): string {
  const shown = waiting.paths.slice(0, 3).join(', ') + (waiting.count > 3 ? `, … (${waiting.count})` : '');
  return `waiting for their marker: ${waiting.count} partition${waiting.count === 1 ? '' : 's'} with data files but not complete (${shown}), the oldest for ${humanSeconds(waiting.oldestSeconds)}: not trained on until marked`;
}

/** The forward check, said plainly: does what serves beat the constant a person would try first? */
export function forwardLine(report: StatusReport): string {
  if (!report.forwardCheck) return 'naive baseline: no gate decision with a naive baseline yet';
  const { summary, warning } = forwardCheckWords(report.forwardCheck);
  return `naive baseline: ${summary}${warning ? `\nWARNING: ${warning}` : ''}`;
}

/** Every lineage in one table (`freshet status` with several lineages). */
export function formatOverview(overview: LineagesOverview): string {
  return [
    `${overview.lineages.length} lineages (\`freshet status --lineage NAME\` for one in full)`,
    formatTable(
      ['lineage', 'champion', 'metric', 'skill vs naive', 'data age', 'last decision', 'next retrain on', 'fresh', 'waiting for marker'],
      overview.lineages.map((l) => [
        l.lineage,
        l.champion ? `v${l.champion.version}` : 'none yet',
        l.champion ? `${l.champion.metricName} ${num(l.champion.metric)}` : '-',
        l.skill === null ? '-' : `${formatSkill(l.skill)}${l.beatsNaive === false ? ' (does not beat it)' : ''}`,
        humanSeconds(l.championDataAgeSeconds),
        l.lastDecision ? `${l.lastDecision.decision} ${l.lastDecision.at}` : '-',
        l.triggers,
        l.freshPartitions,
        l.waitingForMarker,
      ]),
    ),
  ].join('\n');
}
