import type { BenchContext } from '../lib/context';
import { dataOf, gql } from '../lib/graphql-client';
import {
  benchAuthenticator,
  ceremonyShape,
  checkSeedingMatches,
  FINISH_PASSKEY_LOGIN,
  finishBody,
  finishVariables,
  newCeremonies,
  registerThroughApi,
  seedPasskeys,
  START_PASSKEY_LOGIN,
  startThroughApi,
  storeCeremonies,
} from '../lib/passkey-setup';
import { graphQLBody, hasAccessToken } from '../lib/requests';
import { ratio } from '../lib/stats';
import { measureWritePath } from '../lib/write-path';

/** Accounts whose passkey is registered through the API first: the check that seeded ones are what the API makes. */
const API_ACCOUNTS = 2;
const API_PREFIX = 'pk-api';
const SEEDED_PREFIX = 'pk';
/** Seeded accounts, one sign-in each (a fresh ceremony and a counter of 1 per request). */
const ACCOUNTS = { quick: 300, full: 3000 };

const hasCeremony = (_status: number, text: string): boolean => text.startsWith('{"data":{"startPasskeyLogin":{"challengeId":"');

/**
 * A passwordless passkey sign-in against R5, as its two requests. finishPasskeyLogin (the
 * assertion checked, the counter advanced, a session opened): every request needs a ceremony of
 * its own and an assertion signed for it, so accounts are seeded with a passkey each and
 * ceremonies stored as startPasskeyLogin stores them, and every assertion is signed before the
 * runs (the load generator only sends them). startPasskeyLogin (a ceremony stored, options made)
 * is a row of its own, by time. First passkeys are registered through the API and one seeded
 * account signs in through the API with a ceremony the API started, so seeding is known to give
 * what the API gives.
 */
export async function passkeySignInScenario(ctx: BenchContext): Promise<void> {
  const { options } = ctx;
  const origin = ctx.service.origin;
  const authenticator = benchAuthenticator();

  ctx.log(`passkey: ${API_ACCOUNTS} passkeys registered through the API, then signed in with`);
  const registered = await registerThroughApi(ctx, authenticator, API_PREFIX, API_ACCOUNTS);
  for (const account of registered) {
    await checkSeedingMatches(ctx, account);
    const signedIn = await gql(origin, FINISH_PASSKEY_LOGIN, finishVariables(authenticator, account, await startThroughApi(origin)));
    dataOf(signedIn, 'finishPasskeyLogin with a passkey registered through the API');
  }

  const n = options.quick ? ACCOUNTS.quick : ACCOUNTS.full;
  ctx.log(`passkey: seeding ${n.toLocaleString('en-US')} accounts with a passkey each`);
  const accounts = await seedPasskeys(ctx, SEEDED_PREFIX, n);
  const first = accounts.shift()!;
  const apiCeremony = await startThroughApi(origin);
  dataOf(await gql(origin, FINISH_PASSKEY_LOGIN, finishVariables(authenticator, first, apiCeremony)), 'finishPasskeyLogin of a seeded passkey');

  ctx.log(`passkey: ${accounts.length.toLocaleString('en-US')} ceremonies and assertions signed, then stored`);
  const ceremonies = newCeremonies(accounts.length);
  const pending = accounts.map((account, i) => finishBody(authenticator, account, ceremonies[i]));
  // Stored after the signing, so that none of the 5 minutes a ceremony lives goes by before the runs.
  await storeCeremonies(ctx, ceremonies);
  const [seededShape, apiShape] = [await ceremonyShape(ctx, ceremonies[0].challengeId), await ceremonyShape(ctx, (await startThroughApi(origin)).challengeId)];
  if (seededShape !== apiShape) throw new Error(`a seeded ceremony differs from one startPasskeyLogin stored: ${seededShape} vs ${apiShape}`);

  let ranDry = 0;
  const finish = {
    tag: 'finish',
    build: () => {
      const next = pending.shift();
      if (next) return { body: next };
      ranDry++;
      return { body: graphQLBody(FINISH_PASSKEY_LOGIN, { challengeId: '00000000-0000-4000-8000-000000000000', response: {} }) };
    },
    expect: hasAccessToken,
  };
  ctx.log(`passkey: finishPasskeyLogin interleaved with R5, ${options.runs} runs`);
  const finished = await measureWritePath(ctx, {
    scenario: 'finishPasskeyLogin (passkey sign-in, step 2: ES256 assertion, session opened)',
    request: finish,
    inputsLeft: () => pending.length,
    note: () =>
      [`a seeded account, ceremony and pre-signed assertion per request`, ranDry ? `${ranDry} requests found no prepared assertion left` : undefined].filter(Boolean).join('; '),
  });
  const finishRow = ctx.rows[ctx.rows.length - 1];

  ctx.log(`passkey: startPasskeyLogin interleaved with R5, ${options.runs} runs`);
  const started = await measureWritePath(ctx, {
    scenario: 'startPasskeyLogin (passkey sign-in, step 1: a ceremony stored)',
    request: { tag: 'start', body: graphQLBody(START_PASSKEY_LOGIN), expect: hasCeremony },
    note: () => 'the same request every time, no account named',
  });

  // A whole sign-in is one request of each: its rate is the two rows' rates combined in series.
  const whole = 1 / (1 / finished.path.rps + 1 / started.path.rps);
  const r5 = (finished.r5.rps + started.r5.rps) / 2;
  finishRow.note = [finishRow.note, `a whole sign-in (start + finish, from both rows) ~ ${whole.toFixed(0)}/s = ${ratio(whole, r5).toFixed(2)} x R5`].join('; ');
  ctx.raw.passkeySignIn = { seeded: n, apiRegistered: API_ACCOUNTS, finish: finished, start: started, wholeSignInRps: whole, ranDry };
}
