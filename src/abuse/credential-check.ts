import { Extensions } from 'type-graphql';

/** Field extension key read by the GraphQL document limits (credentialFieldsRule). */
export const CHECKS_CREDENTIALS = 'checksCredentials';

/**
 * Marks a mutation that checks (or hashes) a password, code or assertion: each call is a guess, so
 * one document may hold only a few of them however they are aliased. Marked where the mutation is
 * declared, so a new method cannot be left off a hand-kept list.
 */
export function ChecksCredentials(): MethodDecorator {
  return Extensions({ [CHECKS_CREDENTIALS]: true }) as MethodDecorator;
}
