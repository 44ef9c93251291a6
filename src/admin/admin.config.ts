import { int, type Env } from '../config/parse';

export interface AdminConfig {
  /** Audit events older than this are pruned by the hourly cleanup, days. */
  auditRetentionDays: number;
}

const DEFAULT_AUDIT_RETENTION_DAYS = 365;
const MAX_AUDIT_RETENTION_DAYS = 36_500; // a century: "keep everything" without a special value

export function readAdminConfig(env: Env): AdminConfig {
  return { auditRetentionDays: int(env, 'AUDIT_RETENTION_DAYS', DEFAULT_AUDIT_RETENTION_DAYS, 1, MAX_AUDIT_RETENTION_DAYS) };
}
