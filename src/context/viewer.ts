import { UnauthenticatedError } from '../errors/app-errors';
import type { GraphQLContext, Viewer } from './context';

/** The viewer of a guarded resolver (the guard has already run; this keeps types honest). */
export function viewerOf(context: GraphQLContext): Viewer {
  if (!context.viewer) throw new UnauthenticatedError();
  return context.viewer;
}
