// Every metric freshet exposes is named in docs/definitions.md › Metrics: dashboards and
// alerts are written from that page.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { createMetrics } from '../src/observability/index.ts';

test('every freshet_ metric is documented in docs/definitions.md', async () => {
  const docs = fs.readFileSync(new URL('../docs/definitions.md', import.meta.url), 'utf8');
  const names = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('freshet_'));
  assert.ok(names.length >= 25, `${names.length} metrics`);
  assert.deepEqual(names.filter((n) => !docs.includes(`\`${n}`)), []);
});
