import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';

jest.setTimeout(120_000);
const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const out = join(root, 'generated', 'graphql');

afterAll(() => rmSync(join(root, 'generated'), { recursive: true, force: true }));

test('codegen.ts generates typed documents for every client operation, and they type-check', async () => {
  rmSync(out, { recursive: true, force: true });
  await run(process.execPath, [join(root, 'node_modules', '@graphql-codegen', 'cli', 'cjs', 'bin.js'), '--config', 'codegen.ts'], { cwd: root });
  const generated = readFileSync(join(out, 'graphql.ts'), 'utf8');
  for (const name of ['RegisterDocument', 'LoginDocument', 'RefreshTokenDocument', 'MeDocument', 'SessionsDocument', 'UsersDocument', 'VerifyTwoFactorDocument']) {
    expect(generated).toContain(`export const ${name}`);
  }
  expect(generated).toMatch(/export type LoginMutation = \{ login:/);

  const program = ts.createProgram([join(out, 'index.ts')], { strict: true, noEmit: true, module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, moduleResolution: ts.ModuleResolutionKind.Node10, skipLibCheck: true });
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  expect(diagnostics).toEqual([]);
});
