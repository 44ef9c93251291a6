import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * GraphQL Code Generator for frontends: typed documents for every operation in schema/operations,
 * checked against schema/schema.graphql. `npx graphql-codegen --config codegen.ts` writes them to
 * generated/ (a test runs it, so this config is known to work).
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['schema/operations/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'generated/graphql/': {
      preset: 'client',
      config: {
        scalars: { DateTimeISO: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

export default config;
