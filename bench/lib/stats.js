'use strict';

/** Nearest-rank percentile of an array of numbers (p in 0..100). */
function percentile(values, p) {
  if (!values.length) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

function summary(values) {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : null,
  };
}

/** 12345.6 → "12,346"; small numbers keep a few significant digits. */
function fmtNumber(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '';
  const a = Math.abs(v);
  if (a >= 100 || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US');
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

function fmt(v, unit) {
  if (v === null || v === undefined) return 'n/a';
  return `${fmtNumber(v)} ${unit}`;
}

module.exports = { percentile, summary, fmtNumber, fmt };
