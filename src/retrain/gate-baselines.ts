// The rows a decision is scored on, with what eval.naive's per-row baselines need:
// each row's entity and baseline columns read in the same pass as the row (so they stay
// aligned with the rows the models predict, invalid rows skipped alike), the labels of the
// partitions before them (persistence, seasonal lags), and those baselines' predictions.
// Shared by the gate (its holdout partitions) and the backtest (each step's partitions
// before they arrive), so both hold a model to the same baselines.
import type { ResolvedConfig } from '../core/config.ts';
import type { Registry } from '../registry/index.ts';
import { entityMeans, historyPartitionsNeeded, naiveConstants, parseNaiveSpec, rowBaseline, type LabelledRows, type NaiveSpec, type RowBaseline } from '../promotion/index.ts';
import { comparePaths, labelHistory, lineageEvalSet, lineageGateSet, registeredPartitions, type EvalSet, type SideColumns, type TrainingPartition } from '../trainer/index.ts';

type RowSpec = Exclude<NaiveSpec, { kind: 'constant' }>;

/** The per-row specs of eval.naive (last, seasonal:K, column:NAME). */
export function rowSpecs(config: ResolvedConfig): RowSpec[] {
  return config.eval.naive.map(parseNaiveSpec).filter((spec): spec is RowSpec => spec.kind !== 'constant');
}

/**
 * The constants of eval.naive over a training window's labels (binary: the base rate when
 * either is asked for), and what a row without a per-row baseline of its own gets: the
 * window's median (binary: its base rate), whether or not the median is among them.
 */
export function windowBaselines(config: ResolvedConfig, labels: Float64Array): { constants: ReturnType<typeof naiveConstants>; fill: number } {
  const all = naiveConstants(config.model.task, labels);
  const asked = new Set(config.eval.naive);
  return {
    constants: all.filter((c) => asked.has(c.name) || (c.name === 'base-rate' && (asked.has('median') || asked.has('mean')))),
    fill: all[0]?.value ?? Number.NaN,
  };
}

/** The side columns the per-row specs read: the entity (as text ids) first, then each column:NAME. */
function sideColumnsFor(config: ResolvedConfig, specs: readonly RowSpec[]): { side: SideColumns; entity: boolean; columns: string[] } {
  const entity = config.eval.entityColumn !== undefined && specs.some((s) => s.kind !== 'column');
  const columns = [...new Set(specs.flatMap((s) => (s.kind === 'column' ? [s.column] : [])))];
  const ids = new Map<string, number>();
  const encode = (text: string): number => {
    let id = ids.get(text);
    if (id === undefined) ids.set(text, (id = ids.size));
    return id;
  };
  return { side: { names: [...(entity ? [config.eval.entityColumn!] : []), ...columns], textual: new Set(entity ? [0] : []), encode }, entity, columns };
}

/**
 * The rows a decision is scored on and each per-row baseline's predictions on them: every
 * row of `scored` (`all`: forward partitions, a gate's holdout or a backtest's step) or
 * its validation rows (`eval`: the random holdout's in-period rows), up to `maxRows`. A
 * row's "before" is the partitions preceding its own: the newest registered ones before
 * the first scored partition, as many as the specs look back, then the scored ones (every
 * row of them) in path order; a row's own partition never predicts it.
 */
export async function rowsWithBaselines(
  db: Registry,
  config: ResolvedConfig,
  lineageId: string,
  scored: readonly TrainingPartition[],
  fill: number,
  { rows: which = 'all', maxRows = config.training.evalMaxRows }: { rows?: 'all' | 'eval'; maxRows?: number } = {},
): Promise<{ set: EvalSet; naiveRows: RowBaseline[] }> {
  const specs = rowSpecs(config);
  const load = (side?: SideColumns): Promise<EvalSet> => (which === 'all' ? lineageGateSet(db, config, lineageId, scored, maxRows, side) : lineageEvalSet(db, config, lineageId, scored, side));
  if (specs.length === 0 || scored.length === 0) return { set: await load(), naiveRows: [] };
  const { side, entity, columns } = sideColumnsFor(config, specs);
  const set = await load(side);
  const needed = historyPartitionsNeeded(specs);
  const inOrder = [...scored].sort((a, b) => comparePaths(a.path, b.path));
  const history = needed === 0 ? [] : (await registeredPartitions(db, config)).filter((p) => comparePaths(p.path, inOrder[0]!.path) < 0).slice(-needed);
  const entitySide: SideColumns | undefined = entity ? { names: [side.names[0]!], textual: new Set([0]), encode: side.encode } : undefined;
  // Positions in one sequence, oldest first: the history, then the scored partitions by path.
  const rankOf = new Map(inOrder.map((p, i) => [p.id, history.length + i]));
  const rowSide = set.side!;
  const position = Int32Array.from(rowSide.partition, (i) => rankOf.get(scored[i]!.id)!);
  const entityOfRows = entity ? rowSide.columns[0]! : null;
  const labelled: LabelledRows[] = [];
  // The scored partitions' own labels: the set's rows (every row, or beyond the cap a uniform sample of them) for 'all'; for 'eval' every row, read apart.
  const before = which === 'all' ? history : [...history, ...inOrder];
  if (needed > 0 && before.length > 0) {
    const past = await labelHistory(config, before, entitySide);
    labelled.push({ position: past.partition, entity: entity ? past.entity : null, label: past.label });
  }
  if (which === 'all') labelled.push({ position, entity: entityOfRows, label: set.y });
  const columnValues = new Map(columns.map((name, j) => [name, rowSide.columns[(entity ? 1 : 0) + j]!]));
  const rows = { position, entity: entityOfRows, columns: columnValues };
  const means = entityMeans(labelled);
  return { set, naiveRows: specs.map((spec) => rowBaseline(spec, rows, means, fill)) };
}
