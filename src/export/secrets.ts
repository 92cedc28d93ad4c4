import { createReadStream } from 'node:fs';
import path from 'node:path';

/** Names that are templates, safe to ship: `.env.example`, `config.sample.yml`, `x.template`... */
const TEMPLATE_NAME = /(^|[._-])(example|sample|template|tmpl|tpl|dist)([._-]|$)/i;

const SECRET_NAMES: { pattern: RegExp; why: string }[] = [
  {
    pattern: /^\.env(\..+)?$/,
    why: 'an env file (holds secrets); ship a template such as .env.example instead',
  },
  { pattern: /\.(pem|key|p12|pfx|jks|keystore|ppk)$/i, why: 'a private key or certificate store' },
  { pattern: /^id_(rsa|dsa|ecdsa|ed25519)$/, why: 'an SSH private key' },
  { pattern: /^credentials(\.json|\.csv|\.ya?ml)?$/i, why: 'a credentials file' },
  { pattern: /^\.(netrc|pgpass|git-credentials)$/, why: 'a credentials file' },
  { pattern: /^(secrets?|service-account)\.(json|ya?ml)$/i, why: 'a secrets file' },
];

const SECRET_CONTENTS: { pattern: RegExp; why: string }[] = [
  { pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, why: 'a PEM private key' },
  { pattern: /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}/, why: 'an API key (sk-...)' },
  { pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/, why: 'an AWS access key ID' },
  { pattern: /aws_secret_access_key\s*[=:]\s*[A-Za-z0-9/+]{40}/i, why: 'an AWS secret access key' },
  { pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}/, why: 'a GitHub token' },
  { pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/, why: 'a Slack token' },
  { pattern: /\bAIza[0-9A-Za-z_-]{35}\b/, why: 'a Google API key' },
  { pattern: /\bglpat-[A-Za-z0-9_-]{20}\b/, why: 'a GitLab token' },
];

const CHUNK = 1024 * 1024;
const OVERLAP = 512;

export function isTemplateName(file: string): boolean {
  return TEMPLATE_NAME.test(path.basename(file));
}

/** Why a file's name marks it as a secret, or undefined. Templates (`.env.example`) are fine. */
export function secretByName(file: string): string | undefined {
  const base = path.basename(file);
  if (isTemplateName(base)) return undefined;
  return SECRET_NAMES.find((rule) => rule.pattern.test(base))?.why;
}

/** Why a file's contents look like they hold a secret, or undefined; streamed, with overlap between reads. */
export async function secretByContents(file: string): Promise<string | undefined> {
  let tail = '';
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
    const text = tail + (chunk as Buffer).toString('latin1');
    const hit = SECRET_CONTENTS.find((rule) => rule.pattern.test(text));
    if (hit) return hit.why;
    tail = text.slice(-OVERLAP);
  }
  return undefined;
}
