/** Debian's Chromium, driven by playwright-core, for the tests of the page. */
import * as fs from 'node:fs';
import { Browser, chromium } from 'playwright-core';

/** The one-line install README's Prerequisites give for Chromium. */
export const CHROMIUM_INSTALL = 'apt-get update && apt-get install -y chromium';

/** Where the browser tests look for Chromium: CHROMIUM_PATH, else Debian's package. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/** Throws with the way to install Chromium when it is not where the browser tests look for it. */
export function requireChromium(env: NodeJS.ProcessEnv = process.env): string {
  const file = chromiumPath(env);
  if (!fs.existsSync(file))
    throw new Error(`Chromium is missing at ${file}: ${CHROMIUM_INSTALL} (or set CHROMIUM_PATH to a Chromium binary)`);
  return file;
}

/** Launches headless Chromium; fails with the way to install it when it is missing. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: requireChromium(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
