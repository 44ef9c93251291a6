import { randomUUID } from 'node:crypto';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { Encryptor } from '../../src/crypto/encryption';
import { newOpaqueToken } from '../../src/crypto/random';
import { TOKEN_LIFETIMES } from '../../src/email/email-tokens';
import { parseSmtpUrl } from '../../src/mail/mail.config';
import { MailRenderer } from '../../src/mail/mail-renderer';
import { loadTemplates } from '../../src/mail/mail-templates';
import { smtpTransportOptions } from '../../src/mail/mail-transport';
import { tokenAad } from '../../src/mail/outbox.service';
import type { BenchContext } from '../lib/context';
import { CpuMeter, describeCpu, processCpuMs, treeCpuMs } from '../lib/cpu';
import { enqueueResetMails, seedAccounts, withMailRig, type MailRig, type SeededAccount } from '../lib/email-setup';
import { inParallel } from '../lib/graphql-client';
import { BENCH_MAIL_FROM } from '../lib/servers';
import { median, ratio } from '../lib/stats';

const SECTION = 'mail outbox (mails a second into a local SMTP sink)';
/**
 * SEND_BATCH_SIZE of src/mail/mail.module.ts: the sender claims this many due rows a round and
 * sends them at once. The raw sender gets as many pooled connections.
 */
const SENDER_CONCURRENCY = 10;
const MAILS = { quick: 200, full: 1_000 };
const WARMUP_MAILS = 50;
const PREFIX = 'ob';
/** After the last mail arrived, its row is marked sent a moment later: how long to wait for that. */
const SETTLE_TIMEOUT_MS = 15_000;

interface MailRun {
  mails: number;
  seconds: number;
  mailsPerS: number;
  connections: number;
  maxOpen: number;
  bytesPerMail: number;
  /** CPU ms per mail, by process. */
  cpu: Record<string, number>;
}

type RawMail = SendMailOptions;
interface Runs {
  outbox: MailRun[];
  pooled: MailRun[];
  unpooled: MailRun[];
}

/**
 * The outbox's sustained rate: N reset-link mails queued at once (one transaction, through the
 * service's own Outbox.enqueue), timed from the commit to the sink's receipt of the last one; the
 * sender claims, renders, sends and records them. Against raw nodemailer in the bench process
 * (idle meanwhile: no load runs during this section) sending the same mails, rendered beforehand
 * by the service's MailRenderer, through a pooled transport with as many connections as the sender
 * sends at once. A third, informative side sends them unpooled (a connection per mail, as the
 * service's transport did before it pooled), as many at once: it tells the pool's share of the gap
 * from the outbox's own (claims, rounds of 10, the sent records). Runs alternate between the three.
 */
export async function outboxScenario(ctx: BenchContext): Promise<void> {
  const n = ctx.options.quick ? MAILS.quick : MAILS.full;
  await withMailRig(ctx, 'outbox', {}, async (rig) => {
    const accounts = await seedAccounts(rig.db, PREFIX, n, ctx.seedHash);
    // One mail through the outbox first: a seeded row becomes a real reset mail with a link.
    await rig.sink.reset();
    await enqueueResetMails(rig.db, ctx.keys.encryptionKey, accounts.slice(0, 1));
    await rig.sink.linkTokenWhenThere(accounts[0].email);
    await settled(rig);

    const messages = renderLikeTheService(ctx, rig, accounts);
    const postmaster = await ctx.db.postmasterPid();
    ctx.log(`outbox: ${n} mails per run through the outbox sender vs raw nodemailer (pooled, ${SENDER_CONCURRENCY} connections; and unpooled), ${ctx.options.runs} runs each`);
    await outboxRun(ctx, rig, accounts.slice(0, WARMUP_MAILS), postmaster);
    await rawRun(rig, messages.slice(0, WARMUP_MAILS), true);
    await rawRun(rig, messages.slice(0, WARMUP_MAILS), false);
    const runs: Runs = { outbox: [], pooled: [], unpooled: [] };
    for (let i = 0; i < ctx.options.runs; i++) {
      runs.outbox.push(await outboxRun(ctx, rig, accounts, postmaster));
      runs.pooled.push(await rawRun(rig, messages, true));
      runs.unpooled.push(await rawRun(rig, messages, false));
    }
    const retried = Number((await rig.db.query<{ n: string }>('SELECT count(*) AS n FROM mail_outbox WHERE attempts > 1'))[0].n);
    report(ctx, n, runs, retried);
  });
}

/** The mails the outbox sends, rendered the way its sender renders them (template, link, APP_URL), ready for nodemailer. */
function renderLikeTheService(ctx: BenchContext, rig: MailRig, accounts: SeededAccount[]): RawMail[] {
  const encryptor = new Encryptor(Buffer.from(ctx.keys.encryptionKey, 'base64'));
  const renderer = new MailRenderer(loadTemplates(), encryptor);
  return accounts.map((a) => {
    const id = randomUUID();
    const message = renderer.render(
      { id, kind: 'reset_password', recipient: a.email, data: { expiresIn: TOKEN_LIFETIMES.reset_password.words }, token_enc: encryptor.encrypt(newOpaqueToken(), tokenAad(id)), attempts: 1, created_at: new Date() },
      rig.service.origin,
    );
    // The fields the service's smtpTransport sends (src/mail/mail-transport.ts).
    return {
      from: { name: '', address: BENCH_MAIL_FROM },
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      messageId: `<${id}@${BENCH_MAIL_FROM.split('@')[1]}>`,
      headers: { 'Auto-Submitted': 'auto-generated' },
    };
  });
}

/** Waits until no row is left unsent (the sender marks a row sent right after the server took it). */
async function settled(rig: MailRig): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const [row] = await rig.db.query<{ n: string }>('SELECT count(*) AS n FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL');
    if (Number(row.n) === 0) return;
    if (Date.now() > deadline) throw new Error(`${row.n} outbox rows still unsent ${SETTLE_TIMEOUT_MS} ms after their mails arrived`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function finish(rig: MailRig, mails: number, startedAt: number, lastAt: number, cpu: CpuMeter): Promise<MailRun> {
  const perMail = cpu.perRequest(mails);
  const stats = await rig.sink.stats();
  const seconds = Math.max(1e-3, (lastAt - startedAt) / 1000);
  return { mails, seconds, mailsPerS: mails / seconds, connections: stats.connections, maxOpen: stats.maxOpen, bytesPerMail: stats.bytes / Math.max(1, stats.received), cpu: perMail };
}

async function outboxRun(ctx: BenchContext, rig: MailRig, accounts: SeededAccount[], postmaster: number): Promise<MailRun> {
  await rig.sink.reset();
  const cpu = new CpuMeter({
    service: () => processCpuMs(rig.service.child.pid),
    PostgreSQL: () => (Number.isFinite(postmaster) ? treeCpuMs(postmaster) : Number.NaN),
    'SMTP sink': () => processCpuMs(rig.sink.child.pid),
  });
  const committedAt = await enqueueResetMails(rig.db, ctx.keys.encryptionKey, accounts, () => cpu.begin());
  const lastAt = await rig.sink.waitFor(accounts.length, PREFIX);
  const run = await finish(rig, accounts.length, committedAt, lastAt, cpu);
  await settled(rig);
  return run;
}

/** Raw nodemailer: pooled (SENDER_CONCURRENCY connections), or a connection per mail, as many at once. */
async function rawRun(rig: MailRig, messages: RawMail[], pooled: boolean): Promise<MailRun> {
  await rig.sink.reset();
  const options = smtpTransportOptions(parseSmtpUrl(rig.sink.url));
  const transport = pooled ? nodemailer.createTransport({ ...options, pool: true, maxConnections: SENDER_CONCURRENCY }) : nodemailer.createTransport(options);
  const cpu = new CpuMeter({
    'sender (bench process)': () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    },
    'SMTP sink': () => processCpuMs(rig.sink.child.pid),
  });
  try {
    cpu.begin();
    const startedAt = Date.now();
    const sent = pooled ? Promise.all(messages.map((m) => transport.sendMail(m))) : inParallel(messages, SENDER_CONCURRENCY, (m) => transport.sendMail(m));
    const lastAt = await rig.sink.waitFor(messages.length, PREFIX);
    await sent;
    return await finish(rig, messages.length, startedAt, lastAt, cpu);
  } finally {
    transport.close();
  }
}

function medianCpu(runs: MailRun[]): Record<string, number> {
  return Object.fromEntries(Object.keys(runs[0]?.cpu ?? {}).map((name) => [name, median(runs.map((r) => r.cpu[name]))]));
}

function report(ctx: BenchContext, n: number, { outbox, pooled, unpooled }: Runs, retried: number): void {
  const rate = (runs: MailRun[]): number => median(runs.map((r) => r.mailsPerS));
  const bytes = (runs: MailRun[]): string => `${Math.round(median(runs.map((r) => r.bytesPerMail))).toLocaleString('en-US')} bytes a mail`;
  const sessions = (runs: MailRun[]): string => `${median(runs.map((r) => r.connections))} SMTP connections for ${n} mails, at most ${Math.max(...runs.map((r) => r.maxOpen))} open at once`;
  const perMail = (runs: MailRun[]): string => describeCpu(medianCpu(runs)).replace('per request', 'per mail');
  ctx.raw.outbox = { mailsPerRun: n, senderConcurrency: SENDER_CONCURRENCY, outbox, pooled, unpooled, retried };
  const raw = (runs: MailRun[]): string =>
    [`mails a second (req/s column), ${n} a run, from the first send to the sink's receipt of the last`, bytes(runs), sessions(runs), perMail(runs)].join('; ');
  ctx.rows.push({ section: SECTION, scenario: `raw nodemailer, pooled (${SENDER_CONCURRENCY} connections), the same mails`, rps: rate(pooled), note: raw(pooled) });
  ctx.rows.push({
    section: SECTION,
    scenario: `raw nodemailer, a connection per mail (unpooled), ${SENDER_CONCURRENCY} at once`,
    rps: rate(unpooled),
    baseline: 'pooled',
    ratio: ratio(rate(unpooled), rate(pooled)),
    note: raw(unpooled),
  });
  ctx.rows.push({
    section: SECTION,
    scenario: `outbox sender: ${n} mails queued at once, to the sink`,
    rps: rate(outbox),
    baseline: 'raw nodemailer, pooled',
    ratio: ratio(rate(outbox), rate(pooled)),
    note: [
      `vs raw nodemailer with a connection per mail: ${ratio(rate(outbox), rate(unpooled)).toFixed(2)}`,
      'mails a second (req/s column), from the commit that queued them to the sink\'s receipt of the last (claim, render, SMTP, record sent)',
      bytes(outbox),
      sessions(outbox),
      perMail(outbox),
      retried ? `${retried} mails needed a retry` : 'no retries',
    ].join('; '),
  });
}
