import type { Encryptor } from '../crypto/encryption';
import { isLinkMail, LINK_MAILS, type MailKind } from './mail-kinds';
import { renderMail, type MailTemplates } from './mail-templates';
import type { OutgoingMessage } from './mail-transport';
import type { ClaimedMail } from './outbox-queue';
import { tokenAad } from './outbox.service';

/**
 * Turns a claimed outbox row into the mail itself, at send time: the token is decrypted only here,
 * in memory, and the link built as APP_URL + path + `#token=` (the fragment: link scanners and
 * proxies never see it, the page hands it to the mutation).
 */
export class MailRenderer {
  constructor(
    private readonly templates: MailTemplates,
    private readonly encryptor: Encryptor,
  ) {}

  render(mail: ClaimedMail, appUrl: string): OutgoingMessage {
    const template = this.templates.get(mail.kind as MailKind);
    if (!template) throw new Error(`no template for mail kind ${mail.kind}`);
    const values: Record<string, string> = { ...mail.data, email: mail.recipient, appUrl, time: new Date(mail.created_at).toUTCString() };
    if (isLinkMail(mail.kind)) {
      if (!mail.token_enc) throw new Error(`link mail ${mail.id} has no token`);
      const token = this.encryptor.decrypt(mail.token_enc, tokenAad(mail.id));
      values.link = `${appUrl}${LINK_MAILS[mail.kind].path}#token=${token}`;
    }
    return { id: mail.id, to: mail.recipient, ...renderMail(template, values) };
  }
}
