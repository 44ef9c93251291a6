/**
 * A way of proving who you are (password, passkey, OAuth, email code). Declared once by its module;
 * the pipeline reads `provesSecondFactor` to decide whether a two-factor challenge is still owed,
 * so only a method's own declaration can skip it (a user-verified passkey), never its caller.
 */
export interface SignInMethod {
  readonly name: string;
  readonly provesSecondFactor: boolean;
}

export function signInMethod(name: string, options: { provesSecondFactor?: boolean } = {}): SignInMethod {
  return Object.freeze({ name, provesSecondFactor: options.provesSecondFactor ?? false });
}
