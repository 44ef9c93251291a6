import { InitialSchema1732400000000 } from './1732400000000-initial-schema';
import { CleanupIndexes1732500000000 } from './1732500000000-cleanup-indexes';

/** Every migration, oldest first. Add new ones here (npm run migration:generate writes the file). */
export const migrations = [InitialSchema1732400000000, CleanupIndexes1732500000000];
