/**
 * Debian's Chromium for the browser tests, never a downloaded browser: when chromiumPath() found none, a
 * suite is skipped, or fails where SWITCHBOARD_REQUIRE names chromium.
 */
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import type { Requirement } from './requirements.js';

/** Launch Chromium headless after checking the requirement (which throws when it is required and missing). */
export function launchChromium(need: Requirement, executablePath: string | undefined): Promise<Browser> {
  need.assert();
  return chromium.launch({ executablePath: executablePath ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
}

/**
 * Options for `page.screenshot()` that write a committed screenshot only when asked
 * (`SWITCHBOARD_SCREENSHOTS=1`): an ordinary test run takes the picture to check it but leaves the
 * committed images alone, so running the tests never dirties a checkout.
 */
export function keepScreenshot(path: string): { path?: string } {
  return process.env['SWITCHBOARD_SCREENSHOTS'] === '1' ? { path } : {};
}
