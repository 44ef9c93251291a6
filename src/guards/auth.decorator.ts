import { Authorized, Directive } from 'type-graphql';
import type { Role } from '../users/role.enum';

/**
 * The one guard decorator: enforces with TypeGraphQL's @Authorized and prints the same rule as
 * `@auth(requires: [...])` in the SDL, so enforcement and documentation cannot drift apart.
 */
export function Auth(...roles: Role[]): MethodDecorator & PropertyDecorator {
  const sdl = roles.length ? `@auth(requires: [${roles.join(', ')}])` : '@auth';
  const authorized = Authorized(...roles) as MethodDecorator & PropertyDecorator;
  const directive = Directive(sdl) as MethodDecorator & PropertyDecorator;
  return ((target: object, key: string | symbol, descriptor?: PropertyDescriptor) => {
    authorized(target, key, descriptor as TypedPropertyDescriptor<unknown>);
    directive(target, key, descriptor as TypedPropertyDescriptor<unknown>);
  }) as MethodDecorator & PropertyDecorator;
}
