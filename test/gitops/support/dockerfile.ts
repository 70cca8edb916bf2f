// A static check of the Dockerfile and .dockerignore (no Docker engine is needed).

import { CONTRACT_ARGS } from './app.ts';
import type { Finding } from './objects.ts';
import { imageTagProblem } from './workload.ts';

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  image: string;
  name: string | undefined;
  line: number;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  args: Map<string, string>;
  stages: Stage[];
}

/** Splits a Dockerfile into instructions (continuations joined, comments dropped) and stages. */
export function parseDockerfile(text: string): ParsedDockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  let buffer = '';
  let startLine = 0;
  for (const [index, raw] of lines.entries()) {
    const line = raw.trimEnd();
    if (buffer === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    if (buffer !== '' && line.trimStart().startsWith('#')) continue;
    if (buffer === '') startLine = index + 1;
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1)} `;
      continue;
    }
    buffer += line;
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(buffer);
    if (m?.[1] !== undefined) instructions.push({ keyword: m[1].toUpperCase(), args: (m[2] ?? '').trim(), line: startLine });
    buffer = '';
  }
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'ARG' && stages.length === 0) {
      const [name, value] = ins.args.split('=', 2);
      if (name !== undefined) args.set(name.trim(), (value ?? '').trim().replace(/^"|"$/g, ''));
    } else if (ins.keyword === 'FROM') {
      const parts = ins.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const image = (parts[0] ?? '').replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n: string) => args.get(n) ?? '');
      const asIndex = parts.findIndex((p) => p.toUpperCase() === 'AS');
      stages.push({ image, name: asIndex >= 0 ? parts[asIndex + 1] : undefined, line: ins.line, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return { args, stages };
}

/** Files and directories (relative to the build context) the app needs at run time. */
export const RUNTIME_PATHS = [
  'core',
  'plugins',
  'package.json',
  'package-lock.json',
  'conductor.config.ts',
  'node_modules',
  'examples/blueprints',
] as const;

/** Where the build stage stages the git binary and its libraries (copied to / at run time). */
export const GIT_STAGE = '/gitroot';

const F = (message: string, where = 'Dockerfile'): Finding => ({ object: where, message });

/**
 * Multi-stage; every base image pinned to a tag that is not latest; build on Node 24 with
 * production dependencies only; run on distroless Node 24 as 65532:65532 with no RUN (no shell),
 * the contract's command, only the runtime files, OCI labels for version and source, and the
 * health and metrics ports exposed.
 */
export function checkDockerfile(text: string): Finding[] {
  const out: Finding[] = [];
  const { stages } = parseDockerfile(text);
  if (stages.length < 2) return [F('must be multi-stage (a build stage and a runtime stage)')];
  const stageNames = new Set(stages.map((s) => s.name).filter((n) => n !== undefined));
  for (const s of stages) {
    if (stageNames.has(s.image)) continue;
    const problem = imageTagProblem(s.image);
    if (problem !== undefined) out.push(F(`FROM on line ${s.line}: ${problem}`));
  }
  const build = stages.slice(0, -1);
  const runtime = stages.at(-1) as Stage;
  const where = `Dockerfile stage ${runtime.name ?? 'final'}`;

  if (!build.some((s) => /(^|\/)node:24([.-]|$)/.test(s.image)))
    out.push(F('the build stage must use an official Node 24 image (node:24...)'));
  if (!build.some((s) => s.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args) && /--omit=dev\b/.test(i.args)))) {
    out.push(F('the build stage must install production dependencies only (npm ci --omit=dev)'));
  }
  if (!/^gcr\.io\/distroless\/nodejs24-debian\d+:/.test(runtime.image)) {
    out.push(F(`the runtime image must be distroless Node 24 (gcr.io/distroless/nodejs24-debian12), got ${runtime.image}`, where));
  }
  const ins = (keyword: string): Instruction[] => runtime.instructions.filter((i) => i.keyword === keyword);
  for (const run of ins('RUN'))
    out.push(F(`line ${run.line}: RUN in the runtime stage needs a shell, which the runtime image must not have`, where));
  const user = ins('USER').at(-1)?.args;
  if (user !== '65532:65532' && user !== '65532') out.push(F(`must run as USER 65532:65532, got ${user ?? 'the image default'}`, where));
  if (ins('ENTRYPOINT').length > 0) out.push(F('must keep the base image entrypoint (node)', where));
  const cmd = ins('CMD').at(-1)?.args;
  let cmdArgs: unknown;
  try {
    cmdArgs = cmd === undefined ? undefined : JSON.parse(cmd);
  } catch {
    cmdArgs = undefined;
  }
  if (JSON.stringify(cmdArgs) !== JSON.stringify(CONTRACT_ARGS)) {
    out.push(F(`CMD must be the exec form ${JSON.stringify(CONTRACT_ARGS)}, got ${cmd ?? 'none'}`, where));
  }
  const labels = ins('LABEL')
    .map((l) => l.args)
    .join(' ');
  for (const label of ['org.opencontainers.image.version', 'org.opencontainers.image.source']) {
    if (!labels.includes(`${label}=`)) out.push(F(`LABEL ${label} is missing`, where));
  }
  const exposed = ins('EXPOSE').flatMap((e) => e.args.split(/\s+/));
  for (const port of ['8080', '9090']) if (!exposed.includes(port)) out.push(F(`must EXPOSE ${port}`, where));

  const copied = new Set<string>();
  for (const c of [...ins('COPY'), ...ins('ADD')]) {
    if (c.keyword === 'ADD') out.push(F(`line ${c.line}: use COPY, not ADD`, where));
    const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    for (const src of parts.slice(0, -1)) {
      const clean = src.replace(/^\/app\//, '').replace(/\/$/, '');
      if (clean === '/data' || clean === GIT_STAGE) {
        copied.add(clean);
        continue;
      }
      if (!(RUNTIME_PATHS as readonly string[]).includes(clean))
        out.push(F(`line ${c.line}: copies ${src}, which is not a runtime file`, where));
      copied.add(clean);
    }
  }
  for (const p of RUNTIME_PATHS) if (!copied.has(p)) out.push(F(`does not copy ${p}, which the app needs at run time`, where));
  if (!copied.has(GIT_STAGE)) out.push(F(`does not copy git (${GIT_STAGE}), which the git sink runs`, where));
  if (!copied.has('/data')) out.push(F('does not prepare /data for uid 65532', where));
  return out;
}

/** Whether a .dockerignore excludes a context path (last matching pattern wins; ! re-includes). */
export function dockerIgnored(patterns: string, path: string): boolean {
  let ignored = false;
  for (const raw of patterns.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    line = line.replace(/^\/+/, '').replace(/\/+$/, '');
    const re = new RegExp(
      `^${line
        .split('**')
        .map((part) =>
          part
            .split('*')
            .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\\\?/g, '[^/]'))
            .join('[^/]*'),
        )
        .join('.*')}(/.*)?$`,
    );
    if (re.test(path)) ignored = !negate;
  }
  return ignored;
}

/** The context keeps every runtime source and leaves out node_modules, tests and VCS data. */
export function checkDockerignore(patterns: string): Finding[] {
  const out: Finding[] = [];
  const keep = [
    'package.json',
    'package-lock.json',
    'conductor.config.ts',
    'core/cli/conductor.js',
    'plugins/fs-source/index.ts',
    'examples/blueprints/deployment/Kptfile',
  ];
  const drop = [
    'node_modules/yaml/package.json',
    'core/node_modules/x.js',
    '.git/config',
    'test/gitops/x.test.ts',
    'core/cli/conductor.test.ts',
    'data/handoff/intent-1.json',
  ];
  for (const p of keep) if (dockerIgnored(patterns, p)) out.push(F(`excludes ${p}, which the image needs`, '.dockerignore'));
  for (const p of drop) if (!dockerIgnored(patterns, p)) out.push(F(`sends ${p} to the build context`, '.dockerignore'));
  return out;
}
