/**
 * `npm test` needs Chromium for the page's tests. The global setup checks for it before any server
 * starts; a missing browser fails with the one-line install README's Prerequisites give.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHROMIUM_INSTALL, requireChromium } from '../helpers/browser';

describe('the Chromium prerequisite', () => {
  test('a missing Chromium fails with the install line', () => {
    expect(() => requireChromium({ CHROMIUM_PATH: '/nonexistent/chromium' })).toThrow(
      `Chromium is missing at /nonexistent/chromium: ${CHROMIUM_INSTALL}`,
    );
  });

  test('a Chromium that is there is handed on', () => {
    expect(requireChromium({ CHROMIUM_PATH: process.execPath })).toBe(process.execPath);
  });

  test("README's Prerequisites give the same install line", () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const prerequisites = /^## Prerequisites\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
    expect(prerequisites).toContain(CHROMIUM_INSTALL);
  });
});
