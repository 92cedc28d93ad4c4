import { OfflineError } from '../errors.js';

/** Where OpenAI publishes the files (tiktoken_ext/openai_public.py). */
export const OPENAI_BASE_URL = 'https://openaipublic.blob.core.windows.net';

export interface EncodingFile {
  /** Encoding (or gpt2 part) this file serves. */
  encoding: string;
  /** Path under the base URL. */
  urlPath: string;
  sha256: string;
  size: number;
  /** Name for --from folders and human readers. */
  plainName: string;
}

/** The pinned files: URL path, sha256 and size, as tiktoken checks them (shared/facts/tiktoken.md). */
export const ENCODING_FILES: readonly EncodingFile[] = [
  {
    encoding: 'r50k_base',
    urlPath: '/encodings/r50k_base.tiktoken',
    sha256: '306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930',
    size: 835554,
    plainName: 'r50k_base.tiktoken',
  },
  {
    encoding: 'p50k_base',
    urlPath: '/encodings/p50k_base.tiktoken',
    sha256: '94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069',
    size: 836186,
    plainName: 'p50k_base.tiktoken',
  },
  {
    encoding: 'cl100k_base',
    urlPath: '/encodings/cl100k_base.tiktoken',
    sha256: '223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7',
    size: 1681126,
    plainName: 'cl100k_base.tiktoken',
  },
  {
    encoding: 'o200k_base',
    urlPath: '/encodings/o200k_base.tiktoken',
    sha256: '446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d',
    size: 3613922,
    plainName: 'o200k_base.tiktoken',
  },
  {
    encoding: 'gpt2',
    urlPath: '/gpt-2/encodings/main/vocab.bpe',
    sha256: '1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5',
    size: 456318,
    plainName: 'vocab.bpe',
  },
  {
    encoding: 'gpt2',
    urlPath: '/gpt-2/encodings/main/encoder.json',
    sha256: '196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783',
    size: 1042301,
    plainName: 'encoder.json',
  },
];

export const DEFAULT_ENCODINGS = ['r50k_base', 'p50k_base', 'cl100k_base', 'o200k_base'] as const;

/** Names that read another encoding's file. */
const ALIASES: Record<string, string> = {
  p50k_edit: 'p50k_base',
  o200k_harmony: 'o200k_base',
  // model names (tiktoken's MODEL_TO_ENCODING and prefixes)
  'gpt-4o': 'o200k_base',
  'gpt-4.1': 'o200k_base',
  'gpt-5': 'o200k_base',
  o1: 'o200k_base',
  o3: 'o200k_base',
  'o4-mini': 'o200k_base',
  'gpt-oss': 'o200k_harmony',
  'gpt-4': 'cl100k_base',
  'gpt-3.5-turbo': 'cl100k_base',
  'gpt-35-turbo': 'cl100k_base',
  'text-embedding-ada-002': 'cl100k_base',
  'text-embedding-3-small': 'cl100k_base',
  'text-embedding-3-large': 'cl100k_base',
  'text-davinci-003': 'p50k_base',
  'text-davinci-002': 'p50k_base',
  'code-davinci-002': 'p50k_base',
  davinci: 'r50k_base',
  curie: 'r50k_base',
  babbage: 'r50k_base',
  ada: 'r50k_base',
};

/** Longest model-name prefix first, so "gpt-4o-mini" is o200k and "gpt-4-turbo" is cl100k. */
const PREFIXES = Object.keys(ALIASES).sort((a, b) => b.length - a.length);

/** An encoding, alias or model name -> the encoding whose files it needs. */
export function resolveEncoding(name: string): string {
  const key = name.trim();
  if (ENCODING_FILES.some((f) => f.encoding === key)) return key;
  const alias = ALIASES[key] ?? ALIASES[PREFIXES.find((p) => key.startsWith(`${p}-`)) ?? ''];
  if (alias) return resolveEncoding(alias);
  throw new OfflineError('EUSAGE', `unknown tiktoken encoding or model "${name}"`, {
    found: name,
    expected: [...new Set(ENCODING_FILES.map((f) => f.encoding))].join(', '),
  });
}

/** The files a list of encodings/aliases/models needs, each once, in registry order. */
export function filesFor(names: readonly string[]): EncodingFile[] {
  const wanted = new Set(names.map(resolveEncoding));
  return ENCODING_FILES.filter((f) => wanted.has(f.encoding));
}
