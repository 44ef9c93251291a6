import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resultsMarkdown, type ResultsReport } from '../lib/results-markdown';

/**
 * Writes bench/RESULTS.md again from a results JSON (default bench/results/latest.json), e.g. after
 * the wording of the page changed: `node dist/bench/tools/render-results.js [file.json]`.
 */
const ROOT = resolve(__dirname, '..', '..', '..');
const source = process.argv[2] ?? join(ROOT, 'bench', 'results', 'latest.json');
const report = JSON.parse(readFileSync(source, 'utf8')) as ResultsReport;
writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), resultsMarkdown(report));
process.stdout.write(`bench/RESULTS.md written from ${source}\n`);
