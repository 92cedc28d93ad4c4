import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { BundleManifest, GeneratedValue } from '../bundle/manifest.js';
import { placedFile } from './target-layout.js';

export function generateValue(spec: GeneratedValue): string {
  if (spec.kind === 'uuid') return randomUUID();
  return randomBytes(spec.bytes).toString(spec.kind);
}

/**
 * Fills an env template: `KEY=` lines whose KEY is to be generated get a fresh value; keys the template lacks
 * are appended. Other lines stay as they are, and so do line ends (LF or CRLF). import.sh follows the same
 * rules (envFunctions in src/selfcontained/import-script.ts).
 */
export function fillEnvTemplate(template: string, generate: Record<string, GeneratedValue>): string {
  const done = new Set<string>();
  // A CRLF template keeps its line ends: the CR is no part of a value.
  const cr = template.includes('\r\n') ? '\r' : '';
  const lines = template.split('\n').map((line) => {
    const body = line.endsWith('\r') ? line.slice(0, -1) : line;
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(body);
    const key = match?.[1];
    const spec = key ? generate[key] : undefined;
    if (!key || !spec) return line;
    done.add(key);
    const value = (match?.[2] ?? '').trim();
    const placeholder = value === '' || /^(change-?me|<.*>|""|'')$/i.test(value);
    return placeholder ? `${key}=${generateValue(spec)}${line.slice(body.length)}` : line;
  });
  const missing = Object.entries(generate).filter(([key]) => !done.has(key));
  if (missing.length > 0 && lines.at(-1) !== '') lines.push('');
  for (const [key, spec] of missing) lines.splice(lines.length - 1, 0, `${key}=${generateValue(spec)}${cr}`);
  return lines.join('\n');
}

/** The env template's place under the target (see placedFile), or undefined when the bundle has none. */
export function envTemplatePath(manifest: BundleManifest, target: string): string | undefined {
  return manifest.env && placedFile(manifest, manifest.env.template, target, 'env.template');
}

/** The .env this bundle's template gives, read from `templatePath` (wherever its verified bytes are now). */
export async function envFileText(manifest: BundleManifest, templatePath: string): Promise<string> {
  return fillEnvTemplate(await readFile(templatePath, 'utf8'), manifest.env?.generate ?? {});
}
