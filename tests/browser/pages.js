// pages.js — drive Debian's chromium, headless, through facekit's pages
// with playwright-core (tests/51-browser.bats runs it).
//   node pages.js URL STEP...
// runs each STEP in one browser, a fresh page each, and prints one line of
// JSON for each: {"status": the status line, "error": shown as an error,
// "boxes": [the labels on the boxes], "lists": [[the names beside]]}.
//   drop:FILE[:SHOT.png]   drop FILE on the page (then a full-page screenshot)
//   pick:FILE[:SHOT.png]   choose FILE with the file button
//   sort                   on sort.html: click the second face, then the
//       first person's button; press "2" for the face chosen next; press
//       Enter (its suggestion) for the last face; print {"said": [status
//       lines], "people": [buttons], "left": [faces in the grid]}
// Exit 77 when chromium cannot start, 1 on any other failure.
"use strict";
const { chromium } = require("playwright-core");

async function main() {
  const [url, ...steps] = process.argv.slice(2);
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      // root in a container has no user namespaces for chromium's sandbox
      args: process.getuid() === 0 ? ["--no-sandbox"] : [],
    });
  } catch (e) {
    console.error("chromium cannot start: " + e.message.split("\n")[0]);
    process.exit(77);
  }
  try {
    for (const step of steps) {
      const [what, file, shot] = step.split(":");
      console.log(JSON.stringify(await run(browser, url, what, file, shot)));
    }
  } finally {
    await browser.close();
  }
}

async function run(browser, url, what, file, shot) {
  const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
  try {
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    if (what === "sort") return await sorting(page, url, errors);
    await page.goto(url);
    if (what === "drop") await page.locator("#drop").drop({ files: file });
    else if (what === "pick") await page.locator("#file").setInputFiles(file);
    else throw new Error("unknown command " + what);
    // the spinner shows, then goes
    await page.waitForFunction(() => {
      const s = document.getElementById("status");
      return s.textContent !== "" && !s.classList.contains("busy");
    }, null, { timeout: 60000 });
    const out = await page.evaluate(() => ({
      status: document.getElementById("status").textContent,
      error: document.getElementById("status").classList.contains("error"),
      boxes: [...document.querySelectorAll("#photo .box span")].map((s) => s.textContent),
      lists: [...document.querySelectorAll("#faces li")].map((li) =>
        [...li.querySelectorAll("tr")].map((tr) => tr.cells[0].textContent)),
    }));
    if (shot) await page.screenshot({ path: shot, fullPage: true });
    if (errors.length) throw new Error("the page threw: " + errors.join("; "));
    return out;
  } finally {
    await page.close();
  }
}

async function sorting(page, url, errors) {
  const said = [];
  const status = page.locator("#status");
  // the status line of a move, then cleared for the next
  const moved = async () => {
    await page.waitForFunction(() => /^(Moved|Not moved)/.test(document.getElementById("status").textContent));
    said.push(await status.textContent());
    await page.evaluate(() => { document.getElementById("status").textContent = ""; });
  };
  await page.goto(url + "sort.html");
  await page.waitForSelector("#grid li");
  await page.locator("#grid li").nth(1).click();
  await page.locator("#people button").first().click();
  await moved();
  await page.keyboard.press("2");
  await moved();
  await page.locator("#grid li").last().click();
  await page.keyboard.press("Enter");
  await moved();
  const out = await page.evaluate(() => ({
    people: [...document.querySelectorAll("#people button")].map((b) => b.dataset.person),
    left: [...document.querySelectorAll("#grid li")].map((li) => li.dataset.file),
  }));
  if (errors.length) throw new Error("the page threw: " + errors.join("; "));
  return { said, ...out };
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
