import { describe, expect, it } from 'vitest';
import { resolveEncoding } from '../../src/tiktoken/registry.js';

describe('model names, as tiktoken maps them (exact names first, then prefixes)', () => {
  it.each([
    // exact names that an earlier prefix rule got wrong
    ['davinci-002', 'cl100k_base'],
    ['babbage-002', 'cl100k_base'],
    ['davinci', 'r50k_base'],
    // names that were refused
    ['gpt-4.5-preview', 'o200k_base'],
    ['chatgpt-4o-latest', 'o200k_base'],
    ['ft:gpt-4o-mini:org::abc', 'o200k_base'],
    ['ft:gpt-4:org::abc', 'cl100k_base'],
    ['ft:davinci-002:org::abc', 'cl100k_base'],
    ['gpt-3.5', 'cl100k_base'],
    ['gpt-2', 'gpt2'],
    ['text-davinci-001', 'r50k_base'],
    ['code-cushman-001', 'p50k_base'],
    ['text-davinci-edit-001', 'p50k_base'],
    ['gpt-5-mini', 'o200k_base'],
    ['gpt-5.1', 'o200k_base'],
    ['o3-mini', 'o200k_base'],
    ['gpt-oss-120b', 'o200k_base'],
    // unchanged
    ['gpt-4o-mini', 'o200k_base'],
    ['gpt-4-turbo', 'cl100k_base'],
    ['gpt-35-turbo-16k', 'cl100k_base'],
  ])('%s needs the files of %s', (model, encoding) => {
    expect(resolveEncoding(model)).toBe(encoding);
  });

  it.each([
    'davinci-003-custom', // "davinci" is an exact name, not a prefix
    'curie-fine',
    'constructor', // no inherited property of a table counts
    'o200k',
  ])('refuses %s with EUSAGE', (name) => {
    expect(() => resolveEncoding(name)).toThrow(expect.objectContaining({ code: 'EUSAGE' }));
  });
});
