import { CoreErrors } from '../errors/core-errors';
import type { Role } from '../users/role.enum';

/** The caller behind a valid, unrevoked access token. */
export interface Viewer {
  userId: string;
  sessionId: string;
  roles: Role[];
}

/** The viewer of a guarded resolver (the guard has already run; this keeps types honest). */
export function viewerOf(context: { viewer: Viewer | null }): Viewer {
  if (!context.viewer) throw CoreErrors.UNAUTHENTICATED();
  return context.viewer;
}
