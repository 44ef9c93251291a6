import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/parse';
import { LINK_MAILS, MAIL_KINDS, variablesOf } from '../../src/mail/mail-kinds';
import { escapeHtml, loadTemplates, renderMail } from '../../src/mail/mail-templates';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bouncer-templates-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function refusal(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('MAIL_TEMPLATES_DIR');
    return (error as Error).message;
  }
  throw new Error('the templates loaded');
}

test('every mail has a subject, a text part and an HTML part; link mails hold {{link}} on a line of its own', () => {
  const templates = loadTemplates();
  expect([...templates.keys()].sort()).toEqual([...MAIL_KINDS].sort());
  for (const [kind, template] of templates) {
    expect(template.subject).not.toBe('');
    expect(template.html).toMatch(/^<!doctype html>/i);
    const values = Object.fromEntries(variablesOf(kind).map((v) => [v, `<${v}>`]));
    const mail = renderMail(template, values);
    if (kind in LINK_MAILS) {
      expect(mail.text.split('\n')).toContain('<link>');
      expect(mail.html).toContain('&lt;link&gt;');
    } else {
      expect(`${template.text}${template.html}`).not.toMatch(/\{\{\s*link/);
    }
  }
});

test('values are escaped in the HTML part and never break a line or a header', () => {
  const template = { subject: 'For {{email}}', text: 'Hi {{email}}\n{{link}}\n', html: '<p>{{email}}</p><a href="{{link}}">go</a>' };
  const mail = renderMail(template, { email: '"<img src=x onerror=alert(1)>"@example.com\r\nBcc: x@evil.test', link: 'https://a.test/x#token=abc"onmouseover="x' });
  expect(mail.html).toBe('<p>&quot;&lt;img src=x onerror=alert(1)&gt;&quot;@example.com Bcc: x@evil.test</p><a href="https://a.test/x#token=abc&quot;onmouseover=&quot;x">go</a>');
  expect(mail.subject).not.toMatch(/[\r\n]/);
  expect(mail.text.split('\n')).toHaveLength(3);
  expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
});

test('a template needing a value the mail lacks fails loudly instead of sending a blank', () => {
  expect(() => renderMail({ subject: 's', text: '{{newEmail}}', html: '' }, {})).toThrow(/newEmail/);
});

test('MAIL_TEMPLATES_DIR replaces the built-in templates file by file', () => {
  writeFileSync(join(dir, 'password_changed.txt'), 'Subject: Heads up, {{email}}\n\nYour password changed at {{time}}.\n');
  const templates = loadTemplates(dir);
  expect(templates.get('password_changed')).toMatchObject({ subject: 'Heads up, {{email}}', text: 'Your password changed at {{time}}.\n' });
  // The HTML part and every other mail keep the built-in.
  expect(templates.get('password_changed')!.html).toBe(loadTemplates().get('password_changed')!.html);
  expect(templates.get('verify_email')).toEqual(loadTemplates().get('verify_email'));
});

test.each([
  ['an unknown variable', 'verify_email.txt', 'Subject: Hi\n\n{{link}}\n{{password}}\n', /unknown variable \{\{password\}\}/],
  ['a variable of another mail', 'password_changed.txt', 'Subject: Hi\n\nSee {{link}}\n', /unknown variable \{\{link\}\}/],
  ['a link mail without the link on its own line', 'reset_password.txt', 'Subject: Hi\n\nGo to {{link}} now\n', /\{\{link\}\} on a line of its own/],
  ['no subject line', 'verify_email.txt', 'Hello\n\n{{link}}\n', /Subject/],
  ['a malformed placeholder', 'verify_email.html', '<a href="{{link}}">{{ email }</a>', /malformed placeholder/],
  ['a misspelt file name', 'verify-email.txt', 'Subject: Hi\n\n{{link}}\n', /unknown template file/],
])('an operator template with %s stops the start, naming MAIL_TEMPLATES_DIR', (_what, file, body, message) => {
  writeFileSync(join(dir, file), body);
  expect(refusal(() => loadTemplates(dir))).toMatch(message);
});

test('MAIL_TEMPLATES_DIR that is not a directory is refused', () => {
  expect(refusal(() => loadTemplates(join(dir, 'missing')))).toMatch(/not a directory/);
});
