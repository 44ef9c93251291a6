import { MailCatcher } from '../mail/mail-catcher';
import { registerAccount, uniqueEmail } from '../support/accounts';
import type { TestServer } from '../support/test-server';
import { REQUEST_RESET, startMailingServer } from './email.helpers';

/**
 * Enumeration of accounts through reset, by timing: requestPasswordReset for a known and an unknown
 * address must answer alike and in the same time. The answers are asserted; the time is measured
 * and reported (CONTRACT.md: p50 ratio within 0.95-1.05), never asserted: speed is not a unit test.
 */
const PAIRS = 800; // known/unknown request pairs, interleaved so machine load hits both alike
const WARM_UP = 40;

let catcher: MailCatcher;
let server: TestServer;
beforeAll(async () => {
  catcher = await new MailCatcher().start();
  server = await startMailingServer(catcher, { PASSWORD_RESETS_PER_ADDRESS_PER_HOUR: '1000', PASSWORD_RESETS_PER_CLIENT_PER_HOUR: '100000' });
});
afterAll(async () => {
  await server.stop();
  await catcher.stop();
});

async function timed(email: string): Promise<{ ms: number; status: number; body: string }> {
  const started = process.hrtime.bigint();
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: REQUEST_RESET, variables: { email } }) });
  const body = await res.text();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, status: res.status, body };
}

const percentile = (values: number[], p: number): number => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)];

test('known and unknown addresses: identical answers every time; p50 times reported', async () => {
  // Every address is asked about once, as a prober would: a first request for an address also
  // creates its throttle counter, so known and unknown addresses must both be fresh.
  const known: string[] = [];
  for (let i = 0; i < PAIRS; i += 20) known.push(...(await Promise.all(Array.from({ length: 20 }, () => registerAccount(server)))).map((a) => a.email));
  for (let i = 0; i < WARM_UP; i++) await timed(uniqueEmail('warm'));

  const times = { known: [] as number[], unknown: [] as number[] };
  // The second-order channel: the time of whatever request comes right after a probe.
  const after = { known: [] as number[], unknown: [] as number[] };
  const answers = new Set<string>();
  let previous: 'known' | 'unknown' | undefined;
  for (let i = 0; i < PAIRS; i++) {
    // A random order in each pair: what ran before a request is then the same for both kinds.
    const order = Math.random() < 0.5 ? (['known', 'unknown'] as const) : (['unknown', 'known'] as const);
    for (const kind of order) {
      const answer = await timed(kind === 'known' ? known[i] : uniqueEmail('ghost'));
      times[kind].push(answer.ms);
      if (previous) after[previous].push(answer.ms);
      previous = kind;
      answers.add(`${answer.status} ${answer.body}`);
    }
  }
  expect([...answers]).toEqual(['200 {"data":{"requestPasswordReset":true}}\n']);

  const ratio = percentile(times.unknown, 0.5) / percentile(times.known, 0.5);
  // Each pair ran back to back: the median of their ratios is blind to the machine's load drifting.
  const pairRatios = times.unknown.map((ms, i) => ms / times.known[i]);
  const report = {
    pairs: PAIRS,
    knownP50Ms: +percentile(times.known, 0.5).toFixed(3),
    unknownP50Ms: +percentile(times.unknown, 0.5).toFixed(3),
    p50Ratio: +ratio.toFixed(3),
    medianPairRatio: +percentile(pairRatios, 0.5).toFixed(3),
    knownP90Ms: +percentile(times.known, 0.9).toFixed(3),
    unknownP90Ms: +percentile(times.unknown, 0.9).toFixed(3),
    nextAfterUnknownOverAfterKnownP50: +(percentile(after.unknown, 0.5) / percentile(after.known, 0.5)).toFixed(3),
    target: '0.95-1.05',
  };
  // Reported, not asserted.
  console.log(`requestPasswordReset timing (unknown/known p50): ${JSON.stringify(report)}`);
});
