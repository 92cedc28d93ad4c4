/** What every command that reads a bundle accepts as its <bundle> argument (src/bundle/locate.ts). */
export const BUNDLE_ARGUMENT =
  'the bundle archive, any of its parts, the folder holding them, or an extracted bundle folder';
