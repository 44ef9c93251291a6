import type { DataSource } from 'typeorm';
import type { Container } from '../app/container';
import { ModulesToken } from '../app/tokens';
import type { AuditService } from '../audit/audit.service';
import type { RequestInfo } from '../context/request-info';
import type { PersonalDataReader } from '../module';
import { AdminEvent } from './admin.events';

/** Who asked for the export, for its audit event. */
export type ExportedBy = 'self' | 'cli';

/**
 * Everything the service holds about one account, for the account itself (myData) or for the
 * operator answering a request for it (CLI export-user): each feature module's record
 * (FeatureModule.personalData) merged into one object, so a module that adds a table (passkeys,
 * linked accounts) exports it itself. Every export is audited.
 */
export class PersonalData {
  private readers: Array<{ module: string; read: PersonalDataReader }> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly container: Container,
    private readonly audit: AuditService,
    /** The core tables' reader (the admin module's own contribution, with its audit-event cap). */
    private readonly core: PersonalDataReader,
  ) {}

  /** The export, or null when no account has this id (deleted since the token was issued). */
  async of(userId: string, by: ExportedBy, request: RequestInfo): Promise<Record<string, unknown> | null> {
    const [exists]: Array<{ id: string }> = await this.dataSource.query('SELECT id FROM users WHERE id = $1', [userId]);
    if (!exists) return null;
    const out: Record<string, unknown> = { exportedAt: new Date().toISOString() };
    for (const { module, read } of [{ module: 'core', read: this.core }, ...this.moduleReaders()]) {
      for (const [key, value] of Object.entries(await read(userId))) {
        if (key in out) throw new Error(`personal data key ${key} of module ${module} is already taken`);
        out[key] = value;
      }
    }
    await this.dataSource.transaction((m) =>
      this.audit.record(m, {
        type: AdminEvent.USER_DATA_EXPORTED,
        userId,
        ip: by === 'self' ? request.ip : null,
        userAgent: request.userAgent,
        data: { by },
      }),
    );
    return out;
  }

  /** Resolved on first use: every module has registered by then, whatever the list order. */
  private moduleReaders(): Array<{ module: string; read: PersonalDataReader }> {
    this.readers ??= this.container.get(ModulesToken).flatMap((m) => (m.personalData ? [{ module: m.name, read: m.personalData(this.container) }] : []));
    return this.readers;
  }
}
