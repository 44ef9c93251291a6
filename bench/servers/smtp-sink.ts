import { SMTPServer } from 'smtp-server';

/**
 * The bench's local SMTP server, in a process of its own (the bench process also runs the load
 * generator): accepts every mail, plain SMTP on loopback as a developer's mail catcher, and counts
 * them. It answers on the IPC channel it was forked with:
 *   sink:stats          mails and bytes received since the last reset, SMTP connections made, the most open at once
 *   sink:reset          starts a new window (counts, and the session high-water mark from what is open now)
 *   sink:wait {count, prefix, timeoutMs}   answers once `count` mails to recipients starting with
 *                       `prefix` arrived in this window, with the arrival time (Date.now()) of the one
 *                       that made the count
 *   sink:count {prefix} mails of this window to recipients starting with `prefix`
 *   sink:raw {to}       the latest mail to `to` as received (kept for the last KEEP_RAW recipients)
 * Nothing is parsed on arrival: parsing would cost the sink more than the senders it measures.
 */
const KEEP_RAW = 200; // recipients whose latest mail is kept, for the checks that read a link

interface Waiter {
  id: number;
  /** Mails to recipients starting with `prefix` this waiter waits for, and how many of them arrived so far. */
  prefix: string;
  count: number;
  have: number;
  timer: NodeJS.Timeout;
}

let received = 0;
let bytes = 0;
let open = 0;
let maxOpen = 0;
let connections = 0;
let byRecipient = new Map<string, number>();
const raw = new Map<string, string>();
let waiters: Waiter[] = [];

const reply = (message: Record<string, unknown>): void => {
  process.send?.(message);
};

function arrived(to: string[], data: Buffer): void {
  const at = Date.now();
  received++;
  bytes += data.length;
  for (const address of to) {
    byRecipient.set(address, (byRecipient.get(address) ?? 0) + 1);
    raw.delete(address);
    raw.set(address, data.toString('utf8'));
    if (raw.size > KEEP_RAW) raw.delete(raw.keys().next().value!);
    for (const w of waiters) if (address.startsWith(w.prefix)) w.have++;
  }
  const due = waiters.filter((w) => w.have >= w.count);
  if (!due.length) return;
  waiters = waiters.filter((w) => w.have < w.count);
  for (const w of due) {
    clearTimeout(w.timer);
    reply({ id: w.id, type: 'sink:reached', at, received });
  }
}

function countTo(prefix: string): number {
  let n = 0;
  for (const [address, c] of byRecipient) if (address.startsWith(prefix)) n += c;
  return n;
}

const server = new SMTPServer({
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  // The default looks up every client's name first: DNS time that belongs to no sender.
  disableReverseLookup: true,
  onConnect(_session, callback) {
    open++;
    connections++;
    maxOpen = Math.max(maxOpen, open);
    callback();
  },
  onClose() {
    open--;
  },
  onData(stream, session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      arrived(
        session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
        Buffer.concat(chunks),
      );
      callback();
    });
  },
});
server.on('error', (error) => process.stderr.write(`smtp sink: ${error.message}\n`));

process.on('message', (message: { id?: number; type?: string; count?: number; timeoutMs?: number; prefix?: string; to?: string }) => {
  if (!message || typeof message.id !== 'number') return;
  const id = message.id;
  switch (message.type) {
    case 'sink:stats':
      return reply({ id, type: 'sink:stats', received, bytes, maxOpen, open, connections });
    case 'sink:reset':
      received = 0;
      connections = 0;
      bytes = 0;
      maxOpen = open;
      byRecipient = new Map();
      return reply({ id, type: 'sink:reset' });
    case 'sink:wait': {
      const count = message.count ?? 0;
      const prefix = message.prefix ?? '';
      const have = countTo(prefix);
      if (have >= count) return reply({ id, type: 'sink:reached', at: Date.now(), received });
      const timer = setTimeout(() => {
        const waiter = waiters.find((w) => w.id === id);
        waiters = waiters.filter((w) => w.id !== id);
        reply({ id, type: 'error', message: `${waiter?.have ?? have} of ${count} mails to "${prefix}..." arrived within ${message.timeoutMs} ms` });
      }, message.timeoutMs ?? 60_000);
      waiters.push({ id, prefix, count, have, timer });
      return;
    }
    case 'sink:count':
      return reply({ id, type: 'sink:count', count: countTo(message.prefix ?? '') });
    case 'sink:raw':
      return reply({ id, type: 'sink:raw', raw: raw.get((message.to ?? '').toLowerCase()) ?? null });
    default:
      return reply({ id, type: 'error', message: `unknown message ${message.type}` });
  }
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.server.address() as { port: number };
  process.stdout.write(`smtp sink ready on port ${port}\n`);
});
const stop = (): void => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref(); // a client that keeps its connection open does not hold the stop
};
process.on('SIGTERM', stop);
process.on('disconnect', stop); // the bench is gone
