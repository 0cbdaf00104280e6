import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** Calls that hand SQL text to the driver: MikroORM/knex `execute`, `raw`, `*Raw`, pg `query`, migrations' `addSql`. */
const SQL_CALL = /^(?:execute|raw|query|addSql|\w+Raw)$/;
// String methods that assemble text from parts.
const BUILDERS = new Set(['join', 'concat', 'replace', 'replaceAll', 'padEnd', 'padStart', 'repeat', 'format']);

export interface SqlCall {
  file: string;
  line: number;
  code: string;
  /** The SQL argument is assembled at run time (a substituted value, `+`, `+=`, join…), not written whole. */
  built: boolean;
}

/** Every SQL-taking call in one source text, and whether its SQL is assembled at run time. */
export function sqlCalls(file: string, text: string): SqlCall[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  // By name, not by scope: a name is suspect if any of its declarations in the file is built.
  const initializers = new Map<string, Array<{ initializer: ts.Expression; constant: boolean }>>();
  const declare = (name: string, initializer: ts.Expression, constant: boolean) =>
    initializers.set(name, [...(initializers.get(name) ?? []), { initializer, constant }]);
  const appended = new Set<string>();
  const calls: ts.CallExpression[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      declare(node.name.text, node.initializer, (ts.getCombinedNodeFlags(node) & ts.NodeFlags.Const) !== 0);
    }
    // `for (const sql of statements)`: the loop variable is built if any statement is.
    if (ts.isForOfStatement(node) && ts.isVariableDeclarationList(node.initializer)) {
      const [declaration] = node.initializer.declarations;
      if (declaration && ts.isIdentifier(declaration.name)) declare(declaration.name.text, node.expression, false);
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusEqualsToken && ts.isIdentifier(node.left)) appended.add(node.left.text);
    if (ts.isCallExpression(node)) calls.push(node);
    ts.forEachChild(node, visit);
  };
  visit(source);

  // Text fixed when the file is written: literals, and `const`s (never appended to) made of them.
  const constant = (expression: ts.Expression, seen: Set<string>): boolean => {
    const e = skipWrappers(expression);
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return true;
    if (ts.isTemplateExpression(e)) return e.templateSpans.every((span) => constant(span.expression, seen));
    if (!ts.isIdentifier(e) || appended.has(e.text) || seen.has(e.text)) return false;
    const declarations = initializers.get(e.text) ?? [];
    return declarations.length > 0 && declarations.every((d) => d.constant && constant(d.initializer, new Set([...seen, e.text])));
  };

  const built = (expression: ts.Expression, seen: Set<string>): boolean => {
    const e = ts.skipPartiallyEmittedExpressions(skipWrappers(expression));
    // A substitution is a value unless it is constant text (a column list, say).
    if (ts.isTemplateExpression(e)) return !e.templateSpans.every((span) => constant(span.expression, new Set()));
    if (ts.isBinaryExpression(e)) return e.operatorToken.kind === ts.SyntaxKind.PlusToken || built(e.left, seen) || built(e.right, seen);
    if (ts.isConditionalExpression(e)) return built(e.whenTrue, seen) || built(e.whenFalse, seen);
    if (ts.isArrayLiteralExpression(e)) return e.elements.some((element) => built(element, seen));
    if (ts.isCallExpression(e) && ts.isPropertyAccessExpression(e.expression) && BUILDERS.has(e.expression.name.text)) return true;
    if (ts.isIdentifier(e)) {
      if (appended.has(e.text)) return true;
      if (seen.has(e.text)) return false;
      return (initializers.get(e.text) ?? []).some((d) => built(d.initializer, new Set([...seen, e.text])));
    }
    return false;
  };

  return calls.flatMap((call) => {
    const callee = call.expression;
    const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : undefined;
    const sql = call.arguments[0];
    if (!name || !SQL_CALL.test(name) || !sql) return [];
    const { line } = source.getLineAndCharacterOfPosition(call.getStart(source));
    return [{ file, line: line + 1, code: call.getText(source).split('\n')[0]!.slice(0, 160), built: built(sql, new Set()) }];
  });
}

function skipWrappers(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
  return e;
}

/** The production TypeScript files under `dirs` (tests excluded). */
export function productionSources(root: string, dirs: readonly string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules') walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) files.push(path);
    }
  };
  for (const dir of dirs) walk(join(root, dir));
  return files;
}

/** Every SQL-taking call in the production sources, paths relative to `root`. */
export function scanSql(root: string, dirs: readonly string[]): SqlCall[] {
  return productionSources(root, dirs).flatMap((file) => sqlCalls(relative(root, file), readFileSync(file, 'utf8')));
}
