/**
 * The docs cannot rot silently: every relative link in README.md, CONTRIBUTING.md,
 * CHANGELOG.md, BENCHMARKS.md and docs/ must name a file or directory that exists and, for a
 * Markdown page, a heading it has (GitHub's anchor rules); and every environment variable
 * config/ reads must be listed in docs/settings.md. The code's comments and strings cite the
 * docs too, and are held to the same rule: a reference to a page (`docs/security.md`,
 * `docs/runbook.md#a-payment-is-stuck`) or to a page's section (`README "Two commands"`,
 * `docs/api.md "Errors"`) must name a page that exists and a heading it has. Reads files only.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '../..');

/**
 * Pages other branches of the same issue write (the start and packaging work); a link to them
 * is allowed to dangle until they land, and is checked like any other once they exist.
 */
const WRITTEN_ELSEWHERE = new Set(['docs/start.md', 'docs/deployment.md']);

function markdownFiles(): string[] {
  const pages = ['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', 'BENCHMARKS.md'].filter((p) =>
    existsSync(path.join(ROOT, p)),
  );
  const walk = (dir: string): string[] =>
    readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) return walk(rel);
      return e.name.endsWith('.md') ? [rel] : [];
    });
  return [...pages, ...walk('docs')];
}

/** The page's text outside fenced code blocks and inline code, where links and headings live. */
function prose(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '')
    .replace(/`[^`\n]*`/g, (code) => code.replace(/[[\]()]/g, ' '));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const plain = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Link {
  readonly page: string;
  readonly target: string;
}

function relativeLinks(page: string): Link[] {
  const text = prose(readFileSync(path.join(ROOT, page), 'utf8'));
  const links: Link[] = [];
  for (const [, target] of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    links.push({ page, target });
  }
  return links;
}

/** What is wrong with a link, or undefined when it resolves. */
function problem({ page, target }: Link): string | undefined {
  const [file, anchor] = target.split('#', 2);
  const resolved =
    file === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURI(file)));
  const absolute = path.join(ROOT, resolved);
  if (!existsSync(absolute)) return WRITTEN_ELSEWHERE.has(resolved) ? undefined : `${resolved} does not exist`;
  if (anchor === undefined || anchor === '' || statSync(absolute).isDirectory() || !resolved.endsWith('.md'))
    return undefined;
  const anchors = anchorsOf(readFileSync(absolute, 'utf8'));
  return anchors.has(decodeURIComponent(anchor).toLowerCase()) ? undefined : `${resolved} has no heading #${anchor}`;
}

describe('documentation links', () => {
  const pages = markdownFiles();

  it('finds the pages and their links', () => {
    expect(pages).toEqual(expect.arrayContaining(['README.md', 'docs/api.md', 'docs/runbook.md', 'docs/glossary.md']));
    expect(pages.flatMap(relativeLinks).length).toBeGreaterThan(100);
  });

  it('resolves every relative link and anchor', () => {
    const broken = pages.flatMap(relativeLinks).flatMap((link) => {
      const why = problem(link);
      return why ? [`${link.page}: (${link.target}) → ${why}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('computes anchors as GitHub does', () => {
    const anchors = anchorsOf(
      '# A\n## `POST /orders/:id/cancel` — place\n## Flash sales (秒杀)\n## A\n```\n# not a heading\n```\n',
    );
    expect([...anchors]).toEqual(['a', 'post-ordersidcancel--place', 'flash-sales-秒杀', 'a-1']);
  });
});

/** The source files whose comments and strings may cite the docs (generated and vendored code excluded). */
function sourceFiles(): string[] {
  const skip = new Set(['node_modules', 'generated', 'dist', 'coverage', '.git', '.tools', '.data', 'docs']);
  const walk = (dir: string): string[] =>
    readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = dir === '.' ? e.name : path.posix.join(dir, e.name);
      if (e.isDirectory()) return skip.has(e.name) || (e.name.startsWith('.') && e.name !== '.ci') ? [] : walk(rel);
      return /\.(ts|js|cjs|mjs|sql|lua|sh|ya?ml|json)$|^Dockerfile$|^run$/.test(e.name) && !e.name.endsWith('.md')
        ? [rel]
        : [];
    });
  // Migrations are history (the runner refuses a changed checksum): what they cite stays as written.
  return walk('.').filter(
    (f) =>
      !/^(test\/workflows\/histories|prisma\/migrations)\//.test(f) &&
      f !== 'test/unit/doc-links.test.ts' &&
      !f.endsWith('package-lock.json'),
  );
}

/** A page cited by path (`docs/x.md`, `docs/x.md#anchor`) or by section (`README "Heading"`, `docs/x.md "Heading"`). */
interface Citation {
  readonly file: string;
  readonly line: number;
  readonly page: string;
  readonly anchor?: string;
  readonly heading?: string;
}

function citations(file: string): Citation[] {
  const found: Citation[] = [];
  readFileSync(path.join(ROOT, file), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const line = i + 1;
      // A section by its title: README "Security", README, "The order saga", docs/api.md "Errors".
      for (const [, page, heading] of text.matchAll(
        /\b(README(?:\.md)?|CONTRIBUTING(?:\.md)?|docs\/[\w./-]+\.md),? ["“]([^"”]+)["”]/g,
      )) {
        found.push({ file, line, page: page.endsWith('.md') ? page : `${page}.md`, heading });
      }
      // A page by its path, with or without an anchor.
      for (const [, page, anchor] of text.matchAll(
        /(?<![\w/.-])((?:docs\/[\w./-]+|README|CONTRIBUTING|BENCHMARKS|CHANGELOG)\.md)(?:#([\w\p{L}-]+))?/gu,
      )) {
        found.push({ file, line, page, anchor });
      }
    });
  return found;
}

/** GitHub's anchor of a heading's text (the rules of anchorsOf). */
const anchorOf = (heading: string) => [...anchorsOf(`# ${heading}`)][0];

function citationProblem(c: Citation): string | undefined {
  const absolute = path.join(ROOT, c.page);
  if (!existsSync(absolute)) return WRITTEN_ELSEWHERE.has(c.page) ? undefined : `${c.page} does not exist`;
  const wanted = c.anchor ?? (c.heading !== undefined ? anchorOf(c.heading) : undefined);
  if (wanted === undefined || statSync(absolute).isDirectory()) return undefined;
  const anchors = [...anchorsOf(readFileSync(absolute, 'utf8'))];
  // A section is cited by its heading or by the heading's first words ("Alert rules" for "Alert rules (`alerts.yml`)").
  if (
    anchors.includes(wanted.toLowerCase()) ||
    (c.heading !== undefined && anchors.some((a) => a.startsWith(`${wanted.toLowerCase()}-`)))
  )
    return undefined;
  return c.heading !== undefined ? `${c.page} has no heading "${c.heading}"` : `${c.page} has no heading #${c.anchor}`;
}

describe("the code's references to the docs", () => {
  const files = sourceFiles();

  it('finds the code and its references', () => {
    expect(files).toEqual(expect.arrayContaining(['worker.ts', 'api/schemas.ts', 'config/schema.ts', '.ci/run']));
    expect(files.flatMap(citations).length).toBeGreaterThan(20);
  });

  it('each names a page that exists and a heading it has', () => {
    const broken = files.flatMap(citations).flatMap((c) => {
      const why = citationProblem(c);
      return why ? [`${c.file}:${c.line} → ${why}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('finds a stale reference (a planted one)', () => {
    const planted: Citation = { file: 'x.ts', line: 1, page: 'README.md', heading: 'Security' };
    expect(citationProblem(planted)).toBe('README.md has no heading "Security"');
    expect(citationProblem({ file: 'x.ts', line: 1, page: 'docs/security.md' })).toBeUndefined();
    expect(citationProblem({ file: 'x.ts', line: 1, page: 'docs/nowhere.md' })).toBe('docs/nowhere.md does not exist');
  });
});

describe('docs/settings.md', () => {
  it('lists every environment variable config/ reads', () => {
    // Every file of config/ (index.ts assembles what schema, parse, secrets and database read).
    const dir = path.join(ROOT, 'config');
    const source = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n');
    const read = new Set<string>();
    for (const [, name] of source.matchAll(/\(env,\s*'([A-Z][A-Z0-9_]*)'/g)) read.add(name);
    for (const [, name] of source.matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)) read.add(name);
    for (const [, name] of source.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)) read.add(name);
    expect(read.size).toBeGreaterThan(60);
    const settings = readFileSync(path.join(ROOT, 'docs/settings.md'), 'utf8');
    const missing = [...read].filter((name) => !settings.includes(`\`${name}\``)).sort();
    expect(missing).toEqual([]);
  });
});

describe('README and the docs pages (issue 17: what a new user tripped on)', () => {
  const pages = readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);

  it("README's documentation table lists every page in docs/", () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Documentation'));
    expect(pages.filter((page) => !table.includes(`](${page})`))).toEqual([]);
  });

  it('each page opens with what a reader does there', () => {
    const opening = (page: string) => readFileSync(path.join(ROOT, page), 'utf8').split('\n').slice(1, 4).join('\n');
    expect(
      [...pages, 'docs/decisions/README.md'].filter((page) => !/^\n\*\*What you do here:\*\* /.test(opening(page))),
    ).toEqual([]);
  });
});
