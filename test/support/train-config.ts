// A small, fast training configuration over a temp data dir, as environment overrides
// (the same form the CLI tests pass to child processes).
import { loadConfig, type ResolvedConfig } from '../../src/core/config.ts';
import { FEATURES, LABEL } from './partitions.ts';

export function trainEnv(dir: string, databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    FRESHET_DATA_DIR: `${dir}/data`,
    FRESHET_ARTIFACTS_DIR: `${dir}/artifacts`,
    FRESHET_SERVING_DIR: `${dir}/serving`,
    FRESHET_COLUMNS__FEATURES: JSON.stringify(FEATURES),
    FRESHET_COLUMNS__LABEL: LABEL,
    FRESHET_TRAINING__BACKEND: 'wasm',
    FRESHET_TRAINING__BATCH_SIZE: '64',
    FRESHET_TRAINING__NUM_CHECKPOINTS: '4',
    FRESHET_TRAINING__STOP_POINT: '1',
    // Small and fast: no floor of steps and no extension past numCheckpoints
    // (test/training-budget.test.ts tests the defaults').
    FRESHET_TRAINING__MIN_STEPS: '0',
    FRESHET_TRAINING__EXTRA_EPOCHS: '0',
    // The tests of the gate were written for a champion that stays when a candidate loses;
    // the fallback to the constant (the default) is tested on its own (naive-fallback.test.ts).
    FRESHET_EVAL__FALLBACK: 'none',
    FRESHET_TRAINING__LOG_EVERY: '5',
    FRESHET_TRAINING__SHUFFLE_BUFFER: '500',
    FRESHET_TRAINING__EARLY_STOPPING__PATIENCE: '10',
    // The tests written for the per-epoch schedule count its checkpoints; the early,
    // log-spaced ones are tested on their own (test/early-checkpoints.test.ts).
    FRESHET_TRAINING__EARLY_CHECKPOINTS__FIRST_STEP: '0',
    FRESHET_LOG__LEVEL: 'warn',
    FRESHET_LOG__FORMAT: 'json',
    ...extra,
  };
}

export function trainConfig(dir: string, databaseUrl: string, extra: Record<string, string> = {}): ResolvedConfig {
  return loadConfig({ env: trainEnv(dir, databaseUrl, extra), cwd: dir });
}
