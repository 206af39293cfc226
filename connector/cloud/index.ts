export {
  METRICS_RETENTION_DAYS,
  MetricsWriter,
  type MetricsWriterOptions,
} from './metrics-writer.ts';
export {
  type DeliveryOutcome,
  OperationProgress,
  ResultDelivery,
  type ResultDeliveryOptions,
} from './result-delivery.ts';
export {
  connectorVersion,
  type SiteHealthOutcome,
  SiteHealthReporter,
  type SiteHealthReporterOptions,
} from './site-health.ts';
