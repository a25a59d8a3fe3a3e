// The observability module's public surface: Prometheus metrics, the daemon's HTTP
// server (/metrics, /healthz, /readyz), and the status report and page.
export { createMetrics, type Metrics } from './metrics.ts';
export { startHttpServer, matchRoute, type ReadinessCheck, type RunningHttpServer, type HttpServerOptions, type RouteParams } from './http-server.ts';
export { forwardCheckWords, statusReport, type StatusReport } from './status-report.ts';
export { renderStatusPage } from './status-page.ts';
export { lineagesOverview, type LineagesOverview, type LineageOverviewRow } from './lineages-overview.ts';
export { renderOverviewPage } from './overview-page.ts';
export { trainingMetrics, countRegistration, recordDecision, recordPrediction } from './metric-observers.ts';
export { stepLossChartSvg } from './step-loss-chart.ts';
