// SPDX-License-Identifier: MIT
// The web UI end to end in headless Chromium (playwright-core): sign in
// through the URL wirt serve prints, create a VM from the default
// template, boot it, type a command into the serial console (xterm.js
// over the WebSocket) and see its answer, take a screenshot, see the
// guest's screen in the Display tab (noVNC), stop and delete the VM.  Usage: node browser_test.mjs URL SCREENSHOT
// (env WIRT_NPM_DIR: where playwright-core is installed; CHROMIUM).
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.WIRT_NPM_DIR, "node_modules", "x.js"));
const { chromium } = require("playwright-core");
const [url, shot] = process.argv.slice(2);
const vm = "web1";
const step = (m) => console.log(`[browser] ${m}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
let failed = false;
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));
page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
page.on("dialog", (d) => d.accept());
try {
  await page.goto(url);
  await page.waitForSelector("#templates li", { timeout: 20000 });
  if (page.url().includes("token=")) throw new Error("the token stayed in the address bar");
  step("signed in; templates listed");

  await page.click("#new-vm");
  await page.fill("#create-form input[name=name]", vm);
  await page.check("#create-form input[name=display]");
  await page.click("#create-ok");
  await page.waitForSelector(`tr.vm[data-name=${vm}] .state.running`, { timeout: 120000 });
  step("created and started");

  await page.waitForFunction(() => document.querySelector("#console-status").textContent.startsWith("Connected"),
    null, { timeout: 30000 });
  step("console connected");
  const screen = () => page.evaluate(() => {
    const b = window.wirtTerminal.buffer.active;
    let s = "";
    for (let i = 0; i < b.length; i++) s += b.getLine(i).translateToString(true) + "\n";
    return s;
  });
  const deadline = Date.now() + 240000;
  let seen = false;
  while (!seen && Date.now() < deadline) {
    await page.click("#terminal");
    await page.keyboard.type("echo web-$((6*7))\n");
    for (let i = 0; i < 20 && !seen; i++) {
      await page.waitForTimeout(250);
      seen = (await screen()).includes("web-42");
    }
  }
  if (!seen) throw new Error("the guest never answered in the browser console:\n" + (await screen()).trim().slice(-800));
  step("the guest answered a command typed into the browser console");
  await page.screenshot({ path: shot });
  step(`screenshot ${shot}`);

  // The graphical display: the guest draws on its framebuffer (the
  // console is on the serial port, so the screen starts black); noVNC
  // connects with the VM's password and shows it (something not black).
  await page.click("#terminal");
  await page.keyboard.type("until [ -c /dev/fb0 ]; do sleep 1; done; dd if=/dev/urandom of=/dev/fb0 bs=4096 count=200 2>/dev/null; echo drawn\n");
  await page.click("#tabs button[data-tab=display]");
  await page.waitForFunction((n) => document.querySelector("#display-status").textContent.startsWith(`${n}'s display`),
    vm, { timeout: 120000 });
  const lit = await page.waitForFunction(() => {
    const c = document.querySelector("#screen canvas");
    if (!c || c.width < 640) return false;
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 200) n++;
    return n > 100 ? `${c.width}x${c.height}, ${n} lit pixels` : false;
  }, null, { timeout: 180000, polling: 500 });
  step(`display connected: ${await lit.jsonValue()}`);
  await page.screenshot({ path: shot.replace(/\.png$/, "") + ".display.png" });

  await page.click("#detail [data-act=stop]");
  await page.waitForSelector(`tr.vm[data-name=${vm}] .state.stopped`, { timeout: 120000 });
  step("stopped");
  await page.click("#detail [data-act=delete]");
  await page.waitForFunction((n) => !document.querySelector(`tr.vm[data-name=${n}]`), vm, { timeout: 30000 });
  step("deleted");
  if (errors.length) throw new Error("errors in the page: " + errors.join("; "));
} catch (e) {
  failed = true;
  console.error(`[browser] FAILED: ${e.message}`);
  const ds = await page.evaluate(() => document.querySelector("#display-status").textContent).catch(() => "");
  if (ds) console.error(`[browser] display status: ${ds}`);
  if (errors.length) console.error(`[browser] page errors: ${errors.join("; ")}`);
  await page.screenshot({ path: shot + ".failed.png" }).catch(() => {});
}
await browser.close();
process.exit(failed ? 1 : 0);
