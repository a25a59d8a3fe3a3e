// What `freshet tune` leaves behind: the winning policy as a configuration overlay (the keys
// to change, as YAML, to copy into freshet.config.yaml), and the evidence table of every
// policy it backtested, so the choice can be checked and argued with.
import YAML from 'yaml';
import type { TuneResult } from './tune.ts';
import { formatShare, shareOfClairvoyant, type DecisionGain } from '../core/decision-gain.ts';

export interface TuneMeta {
  date: string;
  sourceDir: string;
  warmup: number;
  step: number;
  seeds: readonly number[];
  metric?: string;
}

const pct = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}%` : '-');
const share = (a: number, b: number): string => {
  if (!b) return '-';
  const [low, high] = wilsonInterval(a, b);
  return `${a}/${b} (${Math.round((100 * a) / b)}%; ${Math.round(100 * low)}–${Math.round(100 * high)}%)`;
};

/**
 * The 90% Wilson score interval of a share of `n` (right decisions, promotions that were
 * worse). Why in the table: a tune's three seeds check a few dozen decisions, and on the
 * 2001 flights one policy's share of right decisions was 67% on seeds 1–3 and 75% on
 * seeds 4–6 (BENCHMARKS.md › Where the wrong decisions come from); the interval says how
 * far apart two rows must be before the difference means anything. Decisions of one
 * backtest are not independent draws, so if anything it is too narrow.
 */
export function wilsonInterval(successes: number, n: number, z = 1.6449): [number, number] {
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** The decisions' share of the clairvoyant gate's gain, and in brackets that of promoting every candidate. */
function gainShares(gain: DecisionGain | null): string {
  const taken = gain && shareOfClairvoyant(gain.captured, gain);
  if (!gain || taken === null) return '-';
  return `${formatShare(taken)} (${formatShare(shareOfClairvoyant(gain.alwaysPromote, gain)!)})`;
}

/** The configuration value an assignment stands for (JSON where it parses, else the text). */
function parsed(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The winner's keys as nested YAML (eval.holdoutPartitions=2 → eval: {holdoutPartitions: 2}). */
export function overlayYaml(result: TuneResult, meta: TuneMeta): string {
  const tree: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(result.winner.sets)) {
    const parts = key.split('.');
    let at = tree;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[parts.at(-1)!] = parsed(value);
  }
  const rank = result.winner.rank!;
  const header = [
    `# freshet tune, ${meta.date}: the policy that ranked first on ${meta.sourceDir}`,
    `# (warm-up ${meta.warmup}, step ${meta.step}, seeds ${meta.seeds.join(', ')}): forward skill ${pct(rank.mean)} ± ${(100 * rank.sd).toFixed(1)} over the naive baseline.`,
    '# Copy these keys into freshet.config.yaml (a changed column or model key needs a new `lineage` name). Evidence: tune-evidence.md',
  ];
  const document = new YAML.Document(tree);
  YAML.visit(document, { Seq: (_key, node) => void (node.flow = true) }); // lists on one line, as the starter config writes them
  const body = Object.keys(tree).length ? document.toString() : '# (no change: the configuration as it is ranked first)\n';
  return `${header.join('\n')}\n${body}`;
}

export function evidenceMarkdown(result: TuneResult, meta: TuneMeta): string {
  const lines = [
    `# freshet tune — ${meta.date}`,
    '',
    `History \`${meta.sourceDir}\`, warm-up ${meta.warmup} partitions, then ${meta.step} per retrain; seeds ${meta.seeds.join(', ')}; ${result.runs} backtests (${result.reused} reused from an earlier, interrupted tune; ${result.warmStarts} continued from the first model of a policy that differs only in retrain.* keys).`,
    'Each policy is backtested over every seed (`freshet backtest`: every decision scored on what came next); its rank is the forward skill over the naive baseline, mean over seeds minus their standard deviation. The search is by coordinates: each dimension\'s alternatives are tried with the best policy so far, and one is kept only when it ranks higher.',
    '',
    'Decisions are checked on the step after them: right when the model kept serving was the better of the two there. The gain column weighs them by what was at stake: the forward gain the promotions took (a worse one counting against) as a share of what a gate that knew the next step would have taken, and in brackets the same for a gate that promotes every candidate.',
    '',
    '| policy | tried for | rank (mean − sd) | skill mean ± sd | per seed | right decisions (90% interval) | promoted but worse (90% interval) | gain taken (promoting all) | minutes per backtest | |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const policy of result.policies) {
    const r = policy.rank!;
    const mark = policy === result.winner ? '**winner**' : policy.kept ? 'kept, then bettered' : '';
    lines.push(`| ${policy.label} | ${policy.dimension ?? '-'} | ${pct(r.score)} | ${pct(r.mean)} ± ${(100 * r.sd).toFixed(1)} | ${r.skills.map((s) => (s === null ? '-' : pct(s))).join(', ')} | ${share(r.right, r.checked)} | ${share(r.promotedButWorse, r.promotionsChecked)} | ${gainShares(r.decisionGain)} | ${r.minutes.toFixed(1)} | ${mark} |`);
  }
  const winner = Object.entries(result.winner.sets).map(([k, v]) => `\`${k}=${v}\``).join(', ') || 'the configuration as it is';
  lines.push('', `Winner: ${winner}. The overlay is in tune.yaml.`, '');
  return lines.join('\n');
}
