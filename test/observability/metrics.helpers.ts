import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MetricsServer } from '../../src/observability/metrics-server';
import type { TestServer } from '../support/test-server';

/** One sample of the text format: `name{label="value",...} number`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a scrape (the test's own reading; promtool judges the format). */
export function samplesOf(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, name, labels = '', value] = SAMPLE.exec(line) ?? [];
      if (!name) throw new Error(`not a sample line: ${line}`);
      return { name, labels: Object.fromEntries([...labels.matchAll(LABEL)].map((m) => [m[1], m[2]])), value: Number(value) };
    });
}

/** The value of one series (0 when absent), matching every given label. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

export function metricsUrl(server: TestServer): string {
  return `http://127.0.0.1:${server.running.container.get(MetricsServer).port}/metrics`;
}

export async function scrape(server: TestServer): Promise<{ text: string; samples: Sample[]; contentType: string | null }> {
  const res = await fetch(metricsUrl(server));
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  const text = await res.text();
  return { text, samples: samplesOf(text), contentType: res.headers.get('content-type') };
}

/** Prometheus's own checker (Debian's `prometheus` package), or null when it is not installed. */
export async function promtool(): Promise<string | null> {
  for (const candidate of [process.env.PROMTOOL, 'promtool', '/usr/bin/promtool'].filter(Boolean) as string[]) {
    try {
      await promisify(execFile)(candidate, ['--version']);
      return candidate;
    } catch {
      // next
    }
  }
  return null;
}
