import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/parse';
import { isLinkMail, MAIL_KINDS, variablesOf, type MailKind } from './mail-kinds';

/** One mail's parts before values are put in: `{{name}}` placeholders. */
export interface MailTemplate {
  subject: string;
  text: string;
  html: string;
}

export type MailTemplates = ReadonlyMap<MailKind, MailTemplate>;

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** The templates shipped with the service (copied beside the compiled code by `npm run build`). */
export const BUILT_IN_TEMPLATES_DIR = join(__dirname, 'templates');
const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;
/** A text template's first line names the subject; a blank line separates it from the body. */
const SUBJECT_LINE = /^Subject:[ \t]*([^\r\n]*)\r?\n(?:\r?\n)?/;
const VARIABLE_SETTING = 'MAIL_TEMPLATES_DIR';

/**
 * Loads every mail template: the built-in ones, each replaced by a file of the same name in
 * `overrideDir` (MAIL_TEMPLATES_DIR) when there is one. Everything is checked here, at start: an
 * unknown file, an unknown or malformed placeholder, or a link mail whose text part lacks `{{link}}`
 * on a line of its own stops the start with one line naming MAIL_TEMPLATES_DIR.
 */
export function loadTemplates(overrideDir?: string): MailTemplates {
  const overrides = overrideDir ? listOverrides(overrideDir) : new Set<string>();
  const read = (file: string): string => readFileSync(join(overrides.has(file) ? overrideDir! : BUILT_IN_TEMPLATES_DIR, file), 'utf8');
  const fail = (file: string, detail: string): never => {
    if (overrides.has(file)) throw new ConfigError(VARIABLE_SETTING, `${file}: ${detail}`);
    throw new Error(`built-in mail template ${file}: ${detail}`);
  };
  const templates = new Map<MailKind, MailTemplate>();
  for (const kind of MAIL_KINDS) {
    const [textFile, htmlFile] = [`${kind}.txt`, `${kind}.html`];
    const [text, html] = [read(textFile), read(htmlFile)];
    const allowed = new Set(variablesOf(kind));
    for (const [file, body] of [[textFile, text], [htmlFile, html]]) {
      const problem = placeholderProblem(body, allowed);
      if (problem) fail(file, problem);
    }
    const subject = SUBJECT_LINE.exec(text);
    if (!subject || !subject[1].trim()) return fail(textFile, 'must start with a "Subject: ..." line');
    const template = { subject: subject[1].trim(), text: text.slice(subject[0].length), html };
    if (isLinkMail(kind)) {
      if (!template.text.split(/\r?\n/).some((line) => /^\s*\{\{\s*link\s*\}\}\s*$/.test(line))) fail(textFile, 'must hold {{link}} on a line of its own');
      if (!/\{\{\s*link\s*\}\}/.test(html)) fail(htmlFile, 'must hold {{link}}');
    }
    templates.set(kind, template);
  }
  return templates;
}

function listOverrides(dir: string): Set<string> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(VARIABLE_SETTING, `${dir} is not a directory`);
  const known = new Set(MAIL_KINDS.flatMap((kind) => [`${kind}.txt`, `${kind}.html`]));
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt') || f.endsWith('.html'));
  const unknown = files.filter((f) => !known.has(f));
  // A misspelt file name would otherwise be ignored without a word.
  if (unknown.length) throw new ConfigError(VARIABLE_SETTING, `unknown template file(s) ${unknown.join(', ')} (known: ${[...known].join(', ')})`);
  return new Set(files);
}

function placeholderProblem(body: string, allowed: ReadonlySet<string>): string | null {
  for (const match of body.matchAll(PLACEHOLDER)) {
    if (!allowed.has(match[1])) return `unknown variable {{${match[1]}}} (this mail has ${[...allowed].map((v) => `{{${v}}}`).join(', ')})`;
  }
  const leftover = body.replace(PLACEHOLDER, '');
  if (leftover.includes('{{') || leftover.includes('}}')) return 'malformed placeholder (write {{name}})';
  return null;
}

/**
 * Puts the values in. Values never span lines (no header or line injection); in the HTML part they
 * are escaped, so an address like `"<b>"@example.com` shows as text.
 */
export function renderMail(template: MailTemplate, values: Readonly<Record<string, string>>): RenderedMail {
  const fill = (body: string, encode: (value: string) => string): string =>
    body.replace(PLACEHOLDER, (_m, name: string) => {
      const value = values[name];
      if (value === undefined) throw new Error(`mail template needs {{${name}}}, which this mail has no value for`);
      return encode(oneLine(value));
    });
  return { subject: fill(template.subject, (v) => v), text: fill(template.text, (v) => v), html: fill(template.html, escapeHtml) };
}

function oneLine(value: string): string {
  return value.replace(/[\r\n\u2028\u2029]+/g, ' ');
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
