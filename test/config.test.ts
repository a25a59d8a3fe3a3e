import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import YAML from 'yaml';
import { configReferenceTable, describeConfigKeys, loadConfig } from '../src/core/config.ts';
import { ConfigError } from '../src/core/errors.ts';
import { starterConfig } from '../src/cli/init-command.ts';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-config-'));
}

function write(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  test('defaults when no file exists, paths resolved against the working directory', () => {
    const dir = tempDir();
    const config = loadConfig({ env: {}, cwd: dir });
    assert.equal(config.source, '(defaults)');
    assert.equal(config.dataDir, path.join(dir, 'data'));
    assert.equal(config.database.url, undefined);
    assert.equal(config.database.embedded.dataDir, path.join(dir, '.freshet/pg'));
    assert.equal(config.log.level, 'info');
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.database.embedded), 'config is frozen');
  });

  test('finds freshet.config.yaml and resolves relative paths against its folder', () => {
    const dir = tempDir();
    write(dir, 'freshet.config.yaml', 'dataDir: incoming\nlog:\n  level: debug\n');
    const config = loadConfig({ env: {}, cwd: dir });
    assert.equal(config.source, path.join(dir, 'freshet.config.yaml'));
    assert.equal(config.dataDir, path.join(dir, 'incoming'));
    assert.equal(config.log.level, 'debug');
  });

  test('accepts JSON', () => {
    const dir = tempDir();
    const file = write(dir, 'custom.json', JSON.stringify({ database: { embedded: { port: 5544 } } }));
    assert.equal(loadConfig({ file, env: {}, cwd: '/' }).database.embedded.port, 5544);
  });

  test('an unknown key is rejected with the file and the key path', () => {
    const dir = tempDir();
    const file = write(dir, 'freshet.config.yaml', 'database:\n  embedded:\n    prot: 5432\n');
    assert.throws(
      () => loadConfig({ file, env: {} }),
      (error: Error) => error instanceof ConfigError && error.message.includes(file) && error.message.includes('database.embedded.prot: unknown key'),
    );
  });

  test('retrain.averageCheckpoints beyond training.retention.keepLast is refused, both keys named', () => {
    const dir = tempDir();
    const file = write(dir, 'freshet.config.yaml', 'retrain:\n  averageCheckpoints: 4\n');
    assert.throws(
      () => loadConfig({ file, env: {} }),
      (error: Error) => error instanceof ConfigError && /retrain\.averageCheckpoints: 4 is more than training\.retention\.keepLast \(3\)/.test(error.message),
    );
    assert.equal(loadConfig({ file, env: { FRESHET_TRAINING__RETENTION__KEEP_LAST: '4' } }).retrain.averageCheckpoints, 4);
  });

  test('a wrong type is rejected with the file, key path and what was expected', () => {
    const dir = tempDir();
    const file = write(dir, 'freshet.config.yaml', 'database:\n  connectTimeoutSeconds: soon\n');
    assert.throws(
      () => loadConfig({ file, env: {} }),
      (error: Error) =>
        error instanceof ConfigError && error.message.includes(file) && /database\.connectTimeoutSeconds: .*expected number/i.test(error.message),
    );
  });

  test('a missing explicit file is an error naming it', () => {
    assert.throws(() => loadConfig({ file: '/nonexistent/freshet.yaml', env: {} }), /config file \/nonexistent\/freshet\.yaml does not exist/);
  });

  test('invalid YAML names the file, line and column', () => {
    const dir = tempDir();
    const file = write(dir, 'freshet.config.yaml', 'log:\n  level: [info\n');
    assert.throws(() => loadConfig({ file, env: {} }), (error: Error) => error instanceof ConfigError && error.message.startsWith(`${file}:`) && /not valid YAML/.test(error.message));
  });

  test('environment overrides: DATABASE_URL and FRESHET_<SECTION>__<KEY>', () => {
    const config = loadConfig({
      env: { DATABASE_URL: 'postgres://u@db:5432/x', FRESHET_LOG__LEVEL: 'warn', FRESHET_DATABASE__EMBEDDED__PORT: '6543', FRESHET_DATA_DIR: '/srv/data' },
      cwd: tempDir(),
    });
    assert.equal(config.database.url, 'postgres://u@db:5432/x');
    assert.equal(config.log.level, 'warn');
    assert.equal(config.database.embedded.port, 6543);
    assert.equal(config.dataDir, '/srv/data');
  });

  test('a misspelt section in an environment variable names the variable, not the file, and the variable meant (issue #24, item 5)', () => {
    const dir = tempDir();
    write(dir, 'freshet.config.yaml', 'training:\n  batchSize: 64\n');
    assert.throws(
      () => loadConfig({ env: { FRESHET_TRAINNG__BATCH_SIZE: '3' }, cwd: dir }),
      (error: Error) => {
        assert.match(error.message, /environment variable FRESHET_TRAINNG__BATCH_SIZE: trainng: unknown key \(did you mean FRESHET_TRAINING__BATCH_SIZE\?\)/);
        assert.doesNotMatch(error.message, /freshet\.config\.yaml/);
        return true;
      },
    );
    // The same typo in the file names the file, with the key meant.
    write(dir, 'freshet.config.yaml', 'training:\n  batchSzie: 64\n');
    assert.throws(() => loadConfig({ env: {}, cwd: dir }), /freshet\.config\.yaml: training\.batchSzie: unknown key \(did you mean training\.batchSize\?\)/);
  });

  test('a loss that does not fit the task is refused when the configuration is read (issue #25, item 5)', () => {
    const dir = tempDir();
    write(dir, 'freshet.config.yaml', 'model:\n  task: binary\n  loss: mse\n');
    assert.throws(() => loadConfig({ env: {}, cwd: dir }), /freshet\.config\.yaml: model\.loss: mse does not fit task binary \(use logloss, or leave it unset\)/);
    assert.throws(() => loadConfig({ env: { FRESHET_MODEL__LOSS: 'logloss' }, cwd: tempDir() }), /environment variable FRESHET_MODEL__LOSS: model\.loss: logloss does not fit task regression/);
    assert.equal(loadConfig({ env: { FRESHET_MODEL__TASK: 'binary' }, cwd: tempDir() }).model.loss, undefined, 'unset: the task\'s default');
  });

  test('a bad environment override names the variable', () => {
    assert.throws(() => loadConfig({ env: { FRESHET_LOG__LEVEL: 'loud' }, cwd: tempDir() }), /environment variable FRESHET_LOG__LEVEL: log\.level/);
    assert.throws(() => loadConfig({ env: { FRESHET_NO_SUCH_KEY: '1' }, cwd: tempDir() }), /environment variable FRESHET_NO_SUCH_KEY: .*noSuchKey: unknown key/);
  });
});

describe('starter config', () => {
  test('parses, validates and equals the defaults', () => {
    const dir = tempDir();
    const file = write(dir, 'freshet.config.yaml', starterConfig());
    const fromStarter = loadConfig({ file, env: {} });
    const defaults = loadConfig({ env: {}, cwd: dir });
    assert.deepEqual({ ...fromStarter, source: '' }, { ...defaults, source: '' });
    assert.ok(YAML.parse(starterConfig()));
  });

  test('every key has a description, and the README carries the current reference table', () => {
    for (const key of describeConfigKeys()) assert.ok(key.description.length > 10, `${key.path} has a description`);
    const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(configReferenceTable()), 'README configuration table is stale: paste `npx freshet config --reference`');
  });
});
