/**
 * A small dependency container: one instance per token, registered at start by the kernel and the
 * feature modules, read by TypeGraphQL (its `container` option) to get resolver instances. Nothing
 * here is global: every running service (tests start several per process) has its own.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Token<T> = (abstract new (...args: any[]) => T) | InjectionToken<T>;

/** A token for what has no class of its own (configuration objects, lists). */
export class InjectionToken<T> {
  declare private readonly type: T;
  constructor(readonly name: string) {}
}

export class Container {
  private readonly instances = new Map<unknown, unknown>();

  set<T>(token: Token<T>, value: T): T {
    if (this.instances.has(token)) throw new Error(`${nameOf(token)} is registered twice`);
    this.instances.set(token, value);
    return value;
  }

  /** Replaces a registration (tests: a stand-in for one collaborator). */
  replace<T>(token: Token<T>, value: T): T {
    this.instances.set(token, value);
    return value;
  }

  get<T>(token: Token<T>): T {
    if (!this.instances.has(token)) throw new Error(`${nameOf(token)} is not registered: is its module in src/app/modules.ts?`);
    return this.instances.get(token) as T;
  }

  has(token: Token<unknown>): boolean {
    return this.instances.has(token);
  }
}

function nameOf(token: Token<unknown>): string {
  return token instanceof InjectionToken ? token.name : token.name;
}
