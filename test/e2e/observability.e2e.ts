// End to end with the real clients: Debian's Prometheus scrapes a live daemon that trains,
// retrains and decides; every PromQL expression of the Grafana dashboard must return data
// and every SQL panel query must return rows; headless Chromium (Debian's) loads the
// status page, finds the loss curve and its markers, and saves a screenshot.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { chromium } from 'playwright-core';
import { spawnFreshet } from '../support/cli.ts';
import { createTestDatabase } from '../support/database.ts';
import { dropPartition, slowTrainingEnv } from '../support/daemon.ts';
import { syntheticRows, tempDir, writeCsv } from '../support/partitions.ts';
import { waitFor } from '../support/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Screenshots go to a temp folder (tests never write into the checkout); its path is printed.
const ARTIFACTS = process.env.FRESHET_TEST_ARTIFACTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-e2e-artifacts-'));
const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Target {
  expr?: string;
  rawSql?: string;
}
interface Panel {
  title: string;
  targets: Target[];
}

test('Prometheus scrapes a live daemon: every dashboard expression returns data, every SQL panel returns rows; the status page renders in Chromium', async () => {
  for (const bin of [PROMETHEUS, CHROMIUM]) assert.ok(fs.existsSync(bin), `${bin} is missing: .ci/run installs Debian's prometheus and chromium`);
  const { db, url } = await createTestDatabase();
  const dir = tempDir('freshet-e2e-');
  const httpPort = await freePort();
  const promPort = await freePort();
  for (const day of ['2026-11-01', '2026-11-02', '2026-11-03']) dropPartition(`${dir}/data`, day, 1500);

  const daemon = spawnFreshet(['daemon'], {
    env: slowTrainingEnv(dir, url, {
      FRESHET_HTTP__PORT: String(httpPort),
      FRESHET_SERVING_DIR: `${dir}/serving`,
      FRESHET_TRAINING__NUM_CHECKPOINTS: '12',
      FRESHET_TRAINING__STOP_POINT: '8',
      FRESHET_RETRAIN__VIRTUAL_EPOCHS: '3',
      FRESHET_EVAL__MIN_IMPROVEMENT: '0',
      FRESHET_RETRAIN__BASE: 'pre-plateau',
      FRESHET_HTTP__REFRESH_SECONDS: '1',
    }),
  });
  const promConfig = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(promConfig, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: freshet\n    static_configs:\n      - targets: ['127.0.0.1:${httpPort}']\n`);
  const prometheus: ChildProcess = spawn(PROMETHEUS, [`--config.file=${promConfig}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let promLog = '';
  prometheus.stderr!.on('data', (chunk: Buffer) => (promLog += chunk.toString()));
  after(() => {
    prometheus.kill('SIGKILL');
    daemon.child.kill('SIGKILL');
  });
  const promQuery = async (expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
    const response = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    assert.equal(body.status, 'success', `${expr}: ${body.error}`);
    return body.data.result;
  };

  // The first model, then shifted data and a retrain that the gate decides on.
  await daemon.waitForLog('candidate promoted', 120_000);
  // Predictions for the dashboard's panel: one scored, one refused.
  const predict = (body: unknown) => fetch(`http://127.0.0.1:${httpPort}/v1/predict`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal((await predict({ rows: [{ x0: 0.5, x1: -1, x2: 2, x3: 0.25 }] })).status, 200);
  assert.equal((await predict({ rows: [{ x0: 'far' }] })).status, 400);
  dropPartition(`${dir}/data`, '2026-11-04', 1500);
  await waitFor('a second gate decision', () => daemon.lines.filter((l) => /^candidate (promoted|rejected)$/.test(String(l.msg))).length >= 2, 120_000, 200);
  await waitFor('Prometheus to have scraped the second decision', async () => (await promQuery('freshet_eval_metric{model="champion"}')).length > 0, 60_000, 500).catch((error: Error) => {
    throw new Error(`${error.message}\nprometheus log:\n${promLog.slice(-2000)}`);
  });
  // A day whose feed lost 40% of x1: quarantined by the schema of the first model (the
  // dashboard's quarantine panels, and the page's table, show it).
  const broken = path.join(dir, 'data', 'dt=2026-11-05');
  const blanked = syntheticRows(1500, 20261105).map((r, i) => r.map((v, c) => (c === 1 && i % 5 < 2 ? '' : String(v))));
  writeCsv(path.join(broken, 'part-0.csv'), blanked as unknown as number[][]);
  fs.writeFileSync(path.join(broken, '_SUCCESS'), '');
  await waitFor('the broken day quarantined', async () => (await db.selectFrom('partitions').select('status').where('path', '=', 'dt=2026-11-05').executeTakeFirst())?.status === 'quarantined', 60_000, 200);
  await new Promise((resolve) => setTimeout(resolve, 3000)); // a few more scrapes for the rate() windows

  // The retrain started from the pre-plateau checkpoint of the first run: retention kept it.
  const retrain = await db.selectFrom('runs').selectAll().where('kind', '=', 'retrain').executeTakeFirstOrThrow();
  const selection = retrain.base_selection as { chosen: { globalStep: number; checkpointId: string }; candidates: Array<{ name: string; globalStep: number }>; plateau: { method: string; kneeStep: number | null; chosenStep: number } };
  assert.equal(selection.plateau.method, 'knee');
  assert.notEqual(selection.plateau.kneeStep, null, 'twelve virtual epochs on steady data show a knee');
  assert.equal(selection.candidates.find((c) => c.name === 'pre-plateau')!.globalStep, selection.plateau.chosenStep, 'the knee rule\'s checkpoint was kept and is a candidate');
  assert.equal(retrain.base_checkpoint_id, selection.chosen.checkpointId);

  const dashboard = JSON.parse(fs.readFileSync(path.join(ROOT, 'grafana/dashboards/freshet.json'), 'utf8')) as { panels: Panel[] };
  let promExpressions = 0;
  let sqlQueries = 0;
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      if (target.expr) {
        const result = await promQuery(target.expr.replaceAll('$lineage', 'default'));
        assert.ok(result.length > 0, `panel "${panel.title}": ${target.expr} returned no series`);
        promExpressions += 1;
      }
      if (target.rawSql) {
        const rows = await sql.raw(target.rawSql.replaceAll('$lineage', 'default')).execute(db);
        assert.ok(rows.rows.length > 0, `panel "${panel.title}": its SQL returned no rows`);
        sqlQueries += 1;
      }
    }
  }
  assert.ok(promExpressions >= 20 && sqlQueries >= 3, `${promExpressions} PromQL expressions and ${sqlQueries} SQL queries checked`);

  // The status page, in a real browser: with JavaScript (as people see it) and without.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    for (const javaScriptEnabled of [true, false]) {
      const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1100, height: 1500 } });
      const page = await context.newPage();
      const response = await page.goto(`http://127.0.0.1:${httpPort}/`);
      assert.equal(response?.status(), 200);
      assert.match(await page.title(), /^freshet — default$/);
      assert.equal(await page.locator('#loss-curve polyline.train-loss').count(), 1, 'the loss curve');
      // The step-level curve with the knee rule's choice (plateau.method knee, the default);
      // the per-epoch chart marks the choice too when it is an epoch end, and no plateau start.
      assert.equal(await page.locator('#step-loss-curve polyline.smoothed-loss').count(), 1, 'the step-level loss curve');
      assert.equal(await page.locator('#step-loss-curve .chosen-step-marker circle').count(), 1, 'the pre-plateau candidate marker');
      assert.ok((await page.locator('#loss-curve .chosen-marker circle').count()) <= 1);
      assert.equal(await page.locator('#loss-curve .plateau-marker line').count(), 0, 'no per-epoch plateau start under the knee rule');
      const championRun = await sql<{ kind: string }>`select r.kind from aliases a join model_versions mv on mv.id = a.model_version_id join runs r on r.id = mv.run_id where a.name = 'champion'`.execute(db);
      const retrained = championRun.rows[0]!.kind === 'retrain';
      assert.equal(await page.locator('#loss-curve .base-marker rect').count(), retrained ? 1 : 0, 'the champion\'s base checkpoint marker, when it was retrained');
      assert.match((await page.locator('#champion').textContent()) ?? '', /v\d/);
      assert.ok((await page.locator('#decisions tbody tr').count()) >= 2, 'recent decisions');
      assert.ok((await page.locator('#runs tbody tr').count()) >= 2, 'latest runs');
      // Issue #24, item 15. The decision chart: candidate and champion as skill over the naive
      // baseline (its 0% line), apart from each other, with labelled axes and a legend, no label on a line.
      const chart = page.locator('#decisions-chart');
      assert.equal(await chart.locator('polyline.candidate-skill').count(), 1, 'the candidate\'s skill');
      assert.equal(await chart.locator('polyline.champion-skill').count(), 1, 'the champion\'s skill');
      assert.equal(await chart.locator('.naive-line').count(), 1, 'the naive baseline: the 0% line, or named at the edge it lies beyond');
      assert.ok((await chart.locator('rect.champion-point').count()) >= 1, 'the champion each candidate faced');
      const axes = await chart.locator('.axis-label').allTextContents();
      assert.ok(axes.some((a) => /skill over the naive baseline, \w+ \(%\)/.test(a)) && axes.some((a) => /gate decisions/.test(a)), `axis labels: ${axes.join(' | ')}`);
      assert.equal(await chart.locator('text:not(.axis-label):has-text("candidate")').count(), 1, 'the series are named once, in the legend');
      for (const id of ['#step-loss-curve', '#loss-curve']) assert.match((await page.locator(`${id} .axis-label`).allTextContents()).join(' '), /loss, (mse|mae|logloss) \(log\)/, `${id} names its loss`);
      // Reasons fold to one line; the whole text is one click away.
      const summaries = await page.locator('#decisions details.reason summary').allTextContents();
      assert.ok(summaries.length >= 1 && summaries.every((t) => t.length <= 95), `folded reasons: ${summaries.join(' | ')}`);
      // The queue's history, not only live jobs.
      assert.ok((await page.locator('#recent-jobs tbody tr').count()) >= 2, 'recent jobs listed');
      assert.doesNotMatch((await page.locator('#job-counts').textContent()) ?? '', /none yet|no job yet/);
      if (javaScriptEnabled) {
        // The page refreshes in place (http.refreshSeconds 1 here): the timestamp moves, no navigation.
        const before = await page.locator('#generated').textContent();
        let navigations = 0;
        page.on('framenavigated', () => (navigations += 1));
        await page.waitForFunction(`document.querySelector('#generated')?.textContent !== ${JSON.stringify(before)}`, undefined, { timeout: 10_000 });
        assert.equal(navigations, 0, 'refreshed without a reload');
        await page.locator('#decisions details.reason summary').first().click(); // open one reason, as a reader would
        await page.screenshot({ path: path.join(ARTIFACTS, 'status-page.png'), fullPage: true });
        await chart.screenshot({ path: path.join(ARTIFACTS, 'decisions-chart.png') });
        console.log(`# screenshots in ${ARTIFACTS}`);
      }
      await context.close();
    }
  } finally {
    await browser.close();
  }
  assert.ok(fs.statSync(path.join(ARTIFACTS, 'status-page.png')).size > 10_000, 'a screenshot was saved');

  daemon.child.kill('SIGTERM');
  assert.equal((await daemon.exited).code, 0, daemon.stderr());
});
