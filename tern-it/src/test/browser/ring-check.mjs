// Drives a node's web console in headless Chromium while the test kills a node, for ConsoleSystemTest:
//   node ring-check.mjs CONSOLE_URL KILL_NODE SCREENSHOT
// Waits until the ring shows three members with their failover arrows and the rates are drawn,
// prints "kill KILL_NODE" and waits for the test to kill it; then waits until the ring has lost it
// (and no arrow points to it), and the timeline shows it taken over. Prints one line per step
// (the arrows as FROM->TO); exits non-zero with the reason on the first failure.
import { args, check } from "./browser.mjs";

const [url, killNode, screenshot] = args(3, "node ring-check.mjs CONSOLE_URL KILL_NODE SCREENSHOT");
const arrows = page => page.$$eval("#ring .arrow", as => as.map(a => a.dataset.from + "->" + a.dataset.to).sort().join(","));
const members = page => page.$$eval("#ring .member", ms => ms.map(m => m.dataset.node + ":" + m.dataset.state).sort().join(","));
await check(screenshot, async page => {
  await page.goto(url, { timeout: 15000 });

  await page.waitForFunction(() => {
    const ms = [...document.querySelectorAll("#ring .member")];
    return ms.length === 3 && ms.every(m => m.dataset.state === "serving") && document.querySelectorAll("#ring .arrow").length === 3;
  }, null, { timeout: 30000 });
  console.log("ring before: " + (await members(page)));
  console.log("arrows before: " + (await arrows(page)));
  await page.waitForFunction(() => document.querySelectorAll("#rates svg.chart polyline.in").length === 3
    && [...document.querySelectorAll("#rates svg.chart polyline.in")].every(p => p.getAttribute("points").split(" ").length >= 2),
    null, { timeout: 30000 });
  console.log("rates: " + (await page.locator("#rates svg.chart").count()) + " charts");
  const queueRate = page.locator('#queues tbody tr[data-key$="/ring-orders"] svg.spark polyline.in').first();
  await queueRate.waitFor({ state: "attached", timeout: 30000 });
  console.log("queue rate: " + (await page.locator('#queues tbody tr[data-key$="/ring-orders"] td:last-child').first().textContent()).trim());

  console.log("kill " + killNode);
  await page.waitForFunction(node => {
    const ms = [...document.querySelectorAll("#ring .member")].map(m => m.dataset.node);
    const as = [...document.querySelectorAll("#ring .arrow")];
    return ms.length === 2 && !ms.includes(node) && as.length === 2 && as.every(a => a.dataset.to !== node && a.dataset.from !== node);
  }, killNode, { timeout: 60000 });
  console.log("ring after: " + (await members(page)));
  console.log("arrows after: " + (await arrows(page)));
  const takeover = page.locator(`#timeline li[data-kind="taken-over"][data-node="${killNode}"]`).first();
  await takeover.waitFor({ timeout: 60000 });
  console.log("timeline: " + (await takeover.textContent()));
  const kinds = await page.$$eval("#timeline li", ls => [...new Set(ls.map(l => l.dataset.kind))].sort().join(","));
  console.log("timeline kinds: " + kinds);
});
