import { OfflineError } from '../errors.js';
import { FAT32_MAX_FILE } from './layout.js';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "4G", "700M", "1.5G", "123" (bytes), "700MB", "700MiB" or "fat32" (4 GiB - 1) -> bytes (binary units). */
export function parseSize(text: string): number {
  const value = text.trim();
  if (value.toLowerCase() === 'fat32') return FAT32_MAX_FILE;
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(value);
  const unit = UNITS[(match?.[2] ?? '').toUpperCase()];
  const bytes = match && unit ? Math.floor(Number(match[1]) * unit) : Number.NaN;
  if (!Number.isFinite(bytes) || bytes < 1) {
    throw new OfflineError(
      'EUSAGE',
      `split size "${text}" is not a size (e.g. 700M, 4G, fat32, or a byte count)`,
      {
        found: text,
      },
    );
  }
  return bytes;
}
