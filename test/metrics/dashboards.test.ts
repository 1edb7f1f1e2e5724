/**
 * The shipped alert rules (deploy/prometheus/alerts.yml) and Grafana dashboard
 * (deploy/grafana/dashboards/*.json) name only metrics the processes really export: every
 * metric in their expressions appears in the /metrics of the API (served by the real app on a
 * real Temporal, PostgreSQL and Redis) or of the worker (its real HTTP endpoint and metrics,
 * store gauges included) — and a label a selector matches on is one the metric has.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createWorkerMetrics, serveWorkerHttp } from '../../worker';
import { useAppStack } from '../helpers/app';

const ROOT = path.resolve(__dirname, '../..');
const ALERTS = path.join(ROOT, 'deploy/prometheus/alerts.yml');
const DASHBOARDS = path.join(ROOT, 'deploy/grafana/dashboards');

/** Made by Prometheus itself for every target, not by the processes. */
const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The expressions of the alert rules (each `expr:` is one line) and of their annotation queries. */
function alertExpressions(): string[] {
  const text = readFileSync(ALERTS, 'utf8');
  const exprs = [...text.matchAll(/^\s*expr:\s*(.+)$/gm)].map((m) => m[1].trim());
  const queries = [...text.matchAll(/query "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\"/g, '"'));
  return [...exprs, ...queries];
}

function dashboardExpressions(): Array<{ file: string; expr: string }> {
  const found: Array<{ file: string; expr: string }> = [];
  const walk = (node: unknown, file: string): void => {
    if (Array.isArray(node)) node.forEach((n) => walk(n, file));
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'expr' && typeof value === 'string') found.push({ file, expr: value });
        else walk(value, file);
      }
    }
  };
  for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')))
    walk(JSON.parse(readFileSync(path.join(DASHBOARDS, file), 'utf8')), file);
  return found;
}

/** A PromQL selector: a metric name and the label names it matches on. */
interface Selector {
  readonly metric: string;
  readonly labels: readonly string[];
}

/** The metric selectors of a PromQL expression (enough PromQL for the rules and panels we write). */
export function selectors(expr: string): Selector[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const found: Selector[] = [];
  for (const m of s.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?/g)) {
    const [, name, matchers, call] = m;
    if (call || PROMQL_WORDS.has(name.toLowerCase()) || /^\$/.test(s.slice(Math.max(0, m.index - 1), m.index)))
      continue;
    const labels = matchers ? [...matchers.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]) : [];
    found.push({ metric: name, labels });
  }
  return found;
}

/** Sample names and label names by the `# TYPE` lines and samples of an exposition. */
function exported(text: string): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  const add = (name: string, labels: Iterable<string> = []) => {
    const set = names.get(name) ?? new Set<string>();
    for (const l of labels) set.add(l);
    names.set(name, set);
  };
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    add(name);
    if (type === 'histogram')
      ['_bucket', '_sum', '_count'].forEach((suffix) => add(name + suffix, suffix === '_bucket' ? ['le'] : []));
    if (type === 'summary') ['_sum', '_count'].forEach((suffix) => add(name + suffix, ['quantile']));
  }
  for (const [, name, labels] of text.matchAll(/^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{([^}]*)\})? /gm)) {
    add(name, labels ? [...labels.matchAll(/([A-Za-z_][A-Za-z0-9_]*)="/g)].map((l) => l[1]) : []);
  }
  return names;
}

const stack = useAppStack('time-skipping', 'dashboards-test');

describe('alert rules and dashboards', () => {
  let metrics: Map<string, Set<string>>;

  beforeAll(async () => {
    // The API's own /metrics, through the real app (the ops scope comes with the test's key).
    const api = await stack.app.inject({ method: 'GET', url: '/metrics' });
    expect(api.statusCode).toBe(200);
    // The worker's, from its HTTP endpoint, with the gauges it reads from PostgreSQL.
    const workerMetrics = createWorkerMetrics({ sweeperGraceSeconds: 60 }, stack.db);
    const server = serveWorkerHttp(workerMetrics, () => 'RUNNING', { host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      expect(res.status).toBe(200);
      metrics = exported(`${api.body}\n${await res.text()}`);
    } finally {
      server.close();
    }
    // Counters with labels export no sample before their first increment: the TYPE line
    // names them, labels come from the code's declarations, checked below by name only.
    expect(metrics.has('stockhold_orders_total')).toBe(true);
    expect(metrics.has('stockhold_holds_past_expiry')).toBe(true);
  });

  it('extracts selectors from PromQL', () => {
    expect(
      selectors(
        'sum by (le, activity) (rate(stockhold_activity_duration_seconds_bucket{result="ok"}[$__rate_interval]))',
      ),
    ).toEqual([{ metric: 'stockhold_activity_duration_seconds_bucket', labels: ['result'] }]);
    expect(selectors('max(a_total) > 0 and on(job) up{job=~"x-.*"} == 0')).toEqual([
      { metric: 'a_total', labels: [] },
      { metric: 'up', labels: ['job'] },
    ]);
  });

  const sources = () => [
    ...alertExpressions().map((expr) => ({ file: 'alerts.yml', expr })),
    ...dashboardExpressions(),
  ];

  it('covers what the issue asks for', () => {
    const used = new Set(sources().flatMap(({ expr }) => selectors(expr).map((s) => s.metric)));
    for (const metric of [
      'stockhold_orders_total',
      'stockhold_holds_active',
      'stockhold_campaign_sell_through_ratio',
      'stockhold_saga_endings_total',
      'stockhold_payments_unsettled',
      'stockhold_cache_drift_ratio',
      'stockhold_holds_past_expiry',
      'stockhold_reconciliation_drifts',
      'stockhold_relay_oldest_seconds',
    ])
      expect(used).toContain(metric);
  });

  it('every metric in alerts.yml and the dashboards is exported by the API or the worker', () => {
    const missing: string[] = [];
    for (const { file, expr } of sources()) {
      const found = selectors(expr);
      if (found.length === 0) missing.push(`${file}: no metric in ${expr}`);
      for (const { metric, labels } of found) {
        if (PROMETHEUS_SERIES.has(metric)) continue;
        const known = metrics.get(metric);
        if (!known) missing.push(`${file}: ${metric} (in ${expr})`);
        // Labels are checked where the metric exported samples (so its label set is known).
        else if (known.size > 0)
          for (const l of labels) if (!known.has(l)) missing.push(`${file}: ${metric} has no label ${l} (in ${expr})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('every alert names a runbook entry that exists', () => {
    const text = readFileSync(ALERTS, 'utf8');
    const alerts = [...text.matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]);
    const runbooks = [...text.matchAll(/^\s*runbook: (\S+)$/gm)].map((m) => m[1]);
    expect(runbooks).toHaveLength(alerts.length);
    for (const link of runbooks) {
      const [file, anchor] = link.split('#');
      const page = readFileSync(path.join(ROOT, file), 'utf8');
      const anchors = [...page.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
        m[1]
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      );
      expect(anchors).toContain(anchor);
    }
  });
});
