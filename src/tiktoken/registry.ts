import { OfflineError } from '../errors.js';
import { encodingForModel } from './models.js';

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

const KNOWN = [...new Set(ENCODING_FILES.map((f) => f.encoding))].join(', ');

/** Encodings with no file of their own: they read another encoding's. */
const SHARED_FILES: ReadonlyMap<string, string> = new Map([
  ['p50k_edit', 'p50k_base'],
  ['o200k_harmony', 'o200k_base'],
]);

/** An encoding or model name (tiktoken's tables, see models.ts) -> the encoding whose files it needs. */
export function resolveEncoding(name: string): string {
  const key = name.trim();
  const encoding = isEncoding(key) ? key : encodingForModel(key);
  if (encoding !== undefined) return SHARED_FILES.get(encoding) ?? encoding;
  throw new OfflineError('EUSAGE', `unknown tiktoken encoding or model "${name}"`, {
    found: name,
    expected: KNOWN,
  });
}

function isEncoding(name: string): boolean {
  return SHARED_FILES.has(name) || ENCODING_FILES.some((f) => f.encoding === name);
}

/** The files a list of encodings/aliases/models needs, each once, in registry order; an empty list is refused. */
export function filesFor(names: readonly string[]): EncodingFile[] {
  if (names.length === 0) {
    throw new OfflineError('EUSAGE', 'no tiktoken encoding asked for (give e.g. cl100k_base,o200k_base)', {
      expected: KNOWN,
    });
  }
  const wanted = new Set(names.map(resolveEncoding));
  return ENCODING_FILES.filter((f) => wanted.has(f.encoding));
}
