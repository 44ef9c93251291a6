import { AuditEventEntity } from '../audit/audit-event.entity';
import { RefreshTokenEntity } from '../sessions/refresh-token.entity';
import { SessionEntity } from '../sessions/session.entity';
import { RecoveryCodeEntity } from '../two-factor/recovery-code.entity';
import { TwoFactorChallengeEntity } from '../two-factor/two-factor-challenge.entity';
import { UserEntity } from '../users/user.entity';

export const entities = [UserEntity, SessionEntity, RefreshTokenEntity, RecoveryCodeEntity, TwoFactorChallengeEntity, AuditEventEntity];
