import { InitialSchema1732400000000 } from './1732400000000-initial-schema';
import { CleanupIndexes1732500000000 } from './1732500000000-cleanup-indexes';
import { ThrottleFunctions1733200000000 } from '../../abuse/migrations/1733200000000-throttle-functions';
import { ThrottleRefundRows1764700031000 } from '../../abuse/migrations/1764700031000-throttle-refund-rows';

/**
 * The kernel's migrations (the schema as it was before feature modules owned theirs). A module adds
 * its own in its folder (FeatureModule.migrations); src/app/database.ts orders them all by time.
 */
export const kernelMigrations = [InitialSchema1732400000000, CleanupIndexes1732500000000, ThrottleFunctions1733200000000, ThrottleRefundRows1764700031000];
