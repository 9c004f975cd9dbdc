// What the console checks share: the arguments, Debian's Chromium headless, and the page's errors.
import { chromium } from "playwright-core";

/** The script's arguments, or a usage line and exit status 2 if any is missing. */
export function args(count, usage) {
  const a = process.argv.slice(2);
  if (a.length < count || a.slice(0, count).some(x => !x)) {
    console.error("usage: " + usage);
    process.exit(2);
  }
  return a;
}

/** Chromium as CI has it (CHROMIUM overrides the path), headless, without any network of its own. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Runs steps on a new page of Chromium; then saves a screenshot and prints "ok", or prints
 * "FAILED: why" and sets the exit status 1 if a step failed or the page logged an error.
 */
export async function check(screenshot, steps) {
  const browser = await launch();
  const errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", e => errors.push("page error: " + e.message));
    page.on("console", m => { if (m.type() === "error") errors.push("console error: " + m.text()); });
    await steps(page);
    await page.screenshot({ path: screenshot, fullPage: true });
    if (errors.length > 0) {
      throw new Error(errors.join("; "));
    }
    console.log("ok");
  } catch (e) {
    console.error("FAILED: " + e.message + (errors.length ? " (" + errors.join("; ") + ")" : ""));
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
