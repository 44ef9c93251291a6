import type * as OpenIdClient from 'openid-client';

export type OpenIdClientModule = typeof OpenIdClient;

/**
 * openid-client v6 is ESM-only. With TypeScript compiling to CommonJS, a plain `import()` would be
 * emitted as `require()`, which cannot load it; a Function body is left alone by tsc, so this is a
 * real dynamic import at run time. (Jest's in-process module runtime cannot run it: tests of
 * OpenID Connect flows run the built service in a child process.)
 */
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

let loading: Promise<OpenIdClientModule> | undefined;

export function loadOpenIdClient(): Promise<OpenIdClientModule> {
  loading ??= (importModule('openid-client') as Promise<OpenIdClientModule>).catch((error: unknown) => {
    loading = undefined; // a later call tries again
    throw error;
  });
  return loading;
}
