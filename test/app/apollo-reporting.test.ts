import { ApolloServer } from '@apollo/server';
import { startTestServer } from '../support/test-server';

/**
 * Threat: operations leaking to a third party. Apollo Server turns on usage and schema reporting to
 * Apollo's cloud by itself whenever APOLLO_KEY and APOLLO_GRAPH_REF are in the process environment
 * (an operator's shell, a shared CI secret): every operation's shape and timings would leave the
 * service. Bouncer installs the "disabled" plugins, so the variables change nothing. The control: a
 * plain ApolloServer started in the same environment announces its reporting.
 */
const REPORTING_ENV = { APOLLO_KEY: 'service:bouncer-test:not-a-real-key', APOLLO_GRAPH_REF: 'bouncer-test@current' };

async function logsWhile(work: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const saved = { ...process.env };
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' '))),
  );
  Object.assign(process.env, REPORTING_ENV);
  try {
    await work();
  } finally {
    for (const key of Object.keys(REPORTING_ENV)) if (!(key in saved)) delete process.env[key];
    for (const spy of spies) spy.mockRestore();
  }
  return lines.join('\n');
}

test('control: a plain Apollo Server given APOLLO_KEY and APOLLO_GRAPH_REF starts reporting to Apollo', async () => {
  const log = await logsWhile(async () => {
    const plain = new ApolloServer({ typeDefs: 'type Query { ok: Boolean }' });
    await plain.start();
    await plain.stop();
  });
  expect(log).toMatch(/usage reporting/i);
});

test('APOLLO_KEY in the environment does not make Bouncer report operations or its schema to Apollo', async () => {
  const log = await logsWhile(async () => {
    const server = await startTestServer();
    try {
      const res = await server.gql('{ __typename }');
      expect(res.data).toEqual({ __typename: 'Query' });
    } finally {
      await server.stop();
    }
  });
  expect(log).not.toMatch(/usage reporting|schema reporting/i);
});
