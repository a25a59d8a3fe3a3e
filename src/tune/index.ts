// `freshet tune`'s public surface: the search space, the search itself, its ranking and
// what it writes.
export { searchSpace, MAX_CROSS_PAIRS, type Alternative, type Dimension } from './search-space.ts';
export { rankPolicy, type PolicyRank, type ReportFigures } from './ranking.ts';
export { runTune, reportFile, type TuneOptions, type TunePolicy, type TuneProgress, type TuneResult } from './tune.ts';
export { evidenceMarkdown, overlayYaml, type TuneMeta } from './tune-report.ts';
