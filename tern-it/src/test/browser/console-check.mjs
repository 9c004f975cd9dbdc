// Drives a node's web console in headless Chromium, as an operator would, for ConsoleSystemTest:
//   node console-check.mjs CONSOLE_URL QUEUE DRAIN_NODE SCREENSHOT
// Waits until the servers table shows every member serving and the queue is listed, clicks Drain on
// DRAIN_NODE (accepting the confirmation), waits until the page shows it draining, and saves a
// screenshot. Prints one line per step; exits non-zero with the reason on the first failure.
import { args, check } from "./browser.mjs";

const [url, queue, drainNode, screenshot] = args(4, "node console-check.mjs CONSOLE_URL QUEUE DRAIN_NODE SCREENSHOT");
await check(screenshot, async page => {
  page.on("dialog", d => d.accept());
  await page.goto(url, { timeout: 15000 });

  const rows = page.locator("#servers tbody tr");
  await page.waitForFunction(() => {
    const states = [...document.querySelectorAll("#servers tbody tr td:nth-child(2)")].map(td => td.textContent);
    return states.length >= 3 && states.every(s => s === "serving");
  }, null, { timeout: 20000 });
  console.log("servers: " + (await rows.count()) + " serving");
  console.log("summary: " + (await page.locator("#summary").textContent()));

  await page.locator("#queues tbody tr", { hasText: queue }).first().waitFor({ timeout: 20000 });
  console.log("queue listed: " + queue);
  const connections = await page.locator("#connections tbody tr").count();
  console.log("connections: " + connections);

  await page.locator(`#servers tbody tr[data-node="${drainNode}"] button`).click();
  await page.waitForFunction(node => {
    const row = document.querySelector(`#servers tbody tr[data-node="${node}"]`);
    return row && row.querySelector("td:nth-child(2)").textContent === "draining";
  }, drainNode, { timeout: 20000 });
  console.log("status: " + (await page.locator("#status").textContent()));
  console.log("drained: " + drainNode + " shows draining");
});
