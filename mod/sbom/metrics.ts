/** The SBOM scanner's metric families, declared once: the spec lists them, the module samples them. */
import { counter, gauge, type MetricFamily } from "../core/metrics.ts";

export const SCANS = counter(
  "ironpost_sbom_scans_total",
  "Scan cycles by result (failed: no database, or a target could not be scanned)",
  ["result"],
);
export const ALERTS = counter(
  "ironpost_sbom_alerts_total",
  "Alerts raised for findings not seen before",
);
export const ALERTS_DROPPED = counter(
  "ironpost_sbom_alerts_dropped_total",
  "Alerts that could not be sent (alerts channel closed); retried next scan",
);
export const WATCH_ERRORS = counter(
  "ironpost_sbom_watch_errors_total",
  "Scan directories that could not be watched for lockfile changes",
);
export const COMPONENTS = gauge("ironpost_sbom_components", "Components found by the last scan");
export const FILE_ERRORS = gauge(
  "ironpost_sbom_file_errors",
  "Inventory files the last scan could not read or parse",
);
export const LAST_SCAN_DURATION = gauge(
  "ironpost_sbom_last_scan_duration_seconds",
  "Duration of the last scan",
);
export const LAST_SCAN_TIMESTAMP = gauge(
  "ironpost_sbom_last_scan_timestamp_seconds",
  "When the last scan ended (Unix time; 0: none yet)",
);
export const SEEN_FINDINGS = gauge(
  "ironpost_sbom_seen_findings",
  "Findings remembered as already alerted on",
);
export const VULNDB_AGE = gauge(
  "ironpost_sbom_vulndb_age_seconds",
  "Age of the vulnerability database the last scan used",
);
export const FINDINGS = gauge(
  "ironpost_sbom_findings",
  "Findings of the last scan by severity",
  ["severity"],
);

/** Every family the SBOM module exports. */
export const SBOM_METRICS: readonly MetricFamily[] = [
  SCANS,
  ALERTS,
  ALERTS_DROPPED,
  WATCH_ERRORS,
  COMPONENTS,
  FILE_ERRORS,
  LAST_SCAN_DURATION,
  LAST_SCAN_TIMESTAMP,
  SEEN_FINDINGS,
  VULNDB_AGE,
  FINDINGS,
];
