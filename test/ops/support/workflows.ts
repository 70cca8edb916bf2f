// The static check of the GitHub workflows (issue 9): they parse, and every action they use is
// pinned to a full commit SHA with the version it stands for in a comment — a tag or branch can
// be moved to other code after review; a commit cannot.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface Finding {
  file: string;
  where: string;
  problem: string;
}

const PINNED_ACTION = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[^@\s]+)?@[0-9a-f]{40}$/;
const PINNED_IMAGE = /^docker:\/\/[^@\s]+@sha256:[0-9a-f]{64}$/;
const VERSION_COMMENT = /#\s*v\d+(\.\d+){0,2}\b/;

export function workflowFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** Every problem in one workflow's text: not YAML, no jobs, or a `uses:` that is not pinned. */
export function checkWorkflow(file: string, text: string): Finding[] {
  const findings: Finding[] = [];
  let doc: unknown;
  try {
    doc = parse(text, { strict: true, uniqueKeys: true });
  } catch (error) {
    return [{ file, where: 'document', problem: `does not parse: ${(error as Error).message}` }];
  }
  const jobs = (doc as { jobs?: Record<string, unknown> } | null)?.jobs;
  if (typeof doc !== 'object' || doc === null || !('on' in doc) || typeof jobs !== 'object' || jobs === null) {
    return [{ file, where: 'document', problem: 'is not a workflow (needs `on` and `jobs`)' }];
  }
  for (const [jobName, job] of Object.entries(jobs as Record<string, { uses?: unknown; steps?: { uses?: unknown }[] }>)) {
    const uses: { where: string; ref: unknown }[] = [];
    if (job?.uses !== undefined) uses.push({ where: `jobs.${jobName}.uses`, ref: job.uses });
    for (const [index, step] of (job?.steps ?? []).entries()) {
      if (step?.uses !== undefined) uses.push({ where: `jobs.${jobName}.steps[${index}].uses`, ref: step.uses });
    }
    for (const { where, ref } of uses) {
      const problem = pinProblem(ref);
      if (problem !== undefined) findings.push({ file, where, problem });
    }
  }
  // The version comment is only in the text: each pinned `uses:` line must say what it pins.
  for (const [index, line] of text.split('\n').entries()) {
    const match = /^\s*(?:-\s*)?uses:\s*(\S+)/.exec(line);
    if (match && PINNED_ACTION.test(match[1]!) && !VERSION_COMMENT.test(line)) {
      findings.push({ file, where: `line ${index + 1}`, problem: `${match[1]} has no "# vX.Y.Z" comment naming the version it pins` });
    }
  }
  return findings;
}

function pinProblem(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return 'uses: is not a string';
  // A workflow or action in this repository is pinned by the commit that runs it.
  if (ref.startsWith('./')) return undefined;
  if (ref.startsWith('docker://')) return PINNED_IMAGE.test(ref) ? undefined : `${ref} is not pinned by a sha256 digest`;
  return PINNED_ACTION.test(ref) ? undefined : `${ref} is not pinned by a full 40-hex commit SHA`;
}

export function checkWorkflowFile(file: string): Finding[] {
  return checkWorkflow(file, readFileSync(file, 'utf8'));
}
