// Every lineage at a glance: what `freshet status` and the status page open on when a
// configuration has several lineages. One row per lineage from its own status report: the
// champion, its skill against the naive baseline on the latest gate rows, how old its
// newest data is, the last decision, what triggers the next retrain, and the partitions
// fresh or waiting for their marker.
import type { ResolvedConfig } from '../core/config.ts';
import type { Registry } from '../registry/index.ts';
import { statusReport } from './status-report.ts';

export interface LineageOverviewRow {
  lineage: string;
  dataDir: string;
  champion: { version: number; metricName: string; metric: number } | null;
  /** Skill of what serves against the naive baseline on the latest gate rows (null: no decision yet). */
  skill: number | null;
  beatsNaive: boolean | null;
  championDataAgeSeconds: number | null;
  lastDecision: { decision: string; at: string; reason: string } | null;
  /** What starts the next retrain: the cron schedule and/or data arrival. */
  triggers: string;
  freshPartitions: number;
  waitingForMarker: number;
}

export interface LineagesOverview {
  generatedAt: string;
  lineages: LineageOverviewRow[];
}

function triggersOf(config: ResolvedConfig): string {
  const parts = [config.retrain.schedule ? `cron ${config.retrain.schedule}` : '', config.retrain.onArrival ? 'on arrival' : ''].filter(Boolean);
  return parts.join(' + ') || 'manual only';
}

export async function lineagesOverview(db: Registry, lineages: readonly ResolvedConfig[]): Promise<LineagesOverview> {
  const rows: LineageOverviewRow[] = [];
  for (const config of lineages) {
    const report = await statusReport(db, config);
    const last = report.decisions[0];
    rows.push({
      lineage: config.lineage,
      dataDir: config.dataDir,
      champion: report.champion ? { version: report.champion.version, metricName: report.champion.metricName, metric: report.champion.metric } : null,
      skill: report.forwardCheck?.skill ?? null,
      beatsNaive: report.forwardCheck?.beatsNaive ?? null,
      championDataAgeSeconds: report.freshness.championDataAgeSeconds,
      lastDecision: last ? { decision: last.decision, at: last.at, reason: last.reason } : null,
      triggers: triggersOf(config),
      freshPartitions: report.freshness.partitionsWaiting,
      waitingForMarker: report.awaitingMarker.count,
    });
  }
  return { generatedAt: new Date().toISOString(), lineages: rows };
}
