// The book's browser test: opens every page of the built book in headless Chromium, as a
// reader's laptop would show it, and fails on what a reader would see broken.
//
//   node check.mjs <book-dir> <base-path> [<src-dir>]
//
// <book-dir> is mdBook's output (book/), served here under <base-path> (book.toml's site-url,
// e.g. /eventloop/) exactly as GitHub Pages serves it, 404 page included. <src-dir> (chapters/)
// is only used to name a diagram by its Markdown file and line.
//
// A page fails when:
// - it logs a JavaScript error (a console error or an uncaught exception), or asks for anything
//   outside the book (the book must work offline; such requests are blocked and reported);
// - a mermaid block did not become an SVG, or became mermaid's error SVG ("Syntax error in text");
// - a diagram is drawn below MIN_SCALE of its natural size (its SVG's rendered width against its
//   viewBox width: at 0.5 the 16 px labels are 8 px) or is taller than MAX_HEIGHT;
// - a code block is empty (an include whose anchor matched nothing) or an include directive was
//   left in the text;
// - a Rust block shows a Run button (the book's blocks are pieces of the crate: none compiles in
//   the Rust playground);
// - a link to a page or #anchor inside the book points at nothing.
//
// One line per page, then the failures in full. Exit status 1 when any page failed.

import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, existsSync } from "node:fs";
import { join, extname, relative, resolve, sep } from "node:path";
import { tmpdir } from "node:os";

const MIN_SCALE = 0.8;
// The laptop the book is checked on: mdBook's content column is 750 px wide at this size.
const VIEWPORT = { width: 1280, height: 800 };
// A diagram taller than this is more than a laptop screen and a quarter (the screen shows ~700 px
// of the page): it cannot be taken in at once, and is drawn too loosely. The phases diagram was 2,055.
const MAX_HEIGHT = 1000;
const RENDER_TIMEOUT_MS = 15_000;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const [bookArg, baseArg, srcArg] = process.argv.slice(2);
if (!bookArg || !baseArg) {
    console.error("usage: node check.mjs <book-dir> <base-path> [<src-dir>]");
    process.exit(2);
}
const bookDir = resolve(bookArg);
const base = ("/" + baseArg + "/").replace(/\/+/g, "/");
const srcDir = srcArg ? resolve(srcArg) : null;

// ---- the files mdBook wrote ----------------------------------------------------------------

function walk(dir) {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const path = join(dir, entry.name);
        return entry.isDirectory() ? walk(path) : [path];
    });
}
// BOOK_PAGES=threadpool.html,phases.html checks only those pages (while redrawing a diagram).
const only = (process.env.BOOK_PAGES || "").split(",").filter(Boolean);
const pages = walk(bookDir)
    .filter((path) => path.endsWith(".html"))
    // print.html is every chapter again on one page (its diagrams and includes are the chapters'
    // own); opening it would double the test's time for nothing new.
    .filter((path) => relative(bookDir, path) !== "print.html")
    .filter((path) => only.length === 0 || only.includes(relative(bookDir, path).split(sep).join("/")))
    .map((path) => relative(bookDir, path).split(sep).join("/"))
    .sort();

// The file a URL path names inside the book, or null when there is none.
function fileFor(urlPath) {
    if (!urlPath.startsWith(base)) return null;
    let rel;
    try {
        rel = decodeURIComponent(urlPath.slice(base.length));
    } catch {
        return null;
    }
    const path = resolve(bookDir, rel);
    if (path !== bookDir && !path.startsWith(bookDir + sep)) return null;
    if (!existsSync(path)) return null;
    if (statSync(path).isDirectory()) {
        const index = join(path, "index.html");
        return existsSync(index) ? index : null;
    }
    return path;
}

// ---- a static server: GitHub Pages in miniature ----------------------------------------------

const TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",
};

const server = createServer((req, res) => {
    const path = fileFor(new URL(req.url, "http://localhost").pathname);
    if (path) {
        // Cacheable, as on GitHub Pages: mermaid.js (3 MB) is then parsed once, not once a page.
        res.writeHead(200, {
            "content-type": TYPES[extname(path)] || "application/octet-stream",
            "cache-control": "max-age=600",
        });
        res.end(readFileSync(path));
        return;
    }
    const notFound = join(bookDir, "404.html");
    res.writeHead(404, { "content-type": TYPES[".html"] });
    res.end(existsSync(notFound) ? readFileSync(notFound) : "not found");
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const origin = `http://127.0.0.1:${server.address().port}`;

// ---- where each page's diagrams are in the Markdown --------------------------------------------

function mermaidLines(page) {
    if (!srcDir) return [];
    const md = join(srcDir, page.replace(/\.html$/, ".md"));
    if (!existsSync(md)) return [];
    return readFileSync(md, "utf8")
        .split("\n")
        .flatMap((line, i) => (/^\s*```mermaid\s*$/.test(line) ? [i + 1] : []));
}

// ---- the browser ------------------------------------------------------------------------------

const profile = mkdtempSync(join(tmpdir(), "book-browser-test-"));
let context;
try {
    context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
        viewport: VIEWPORT,
        deviceScaleFactor: 1,
        // The light theme, whatever the machine prefers, so every run draws the same pixels.
        colorScheme: "light",
    });
} catch (error) {
    rmSync(profile, { recursive: true, force: true });
    server.close();
    console.error(`browser test: could not start ${CHROMIUM}: ${error.message}`);
    process.exit(1);
}

// Nothing leaves the machine: the book must work offline, and CI has no network. Requests
// elsewhere are refused here, and each page reports the ones it made (requestfailed).
const isLocal = (url) => url.startsWith(origin + "/") || url.startsWith("data:") || url.startsWith("blob:");
await context.route("**/*", (route) =>
    isLocal(route.request().url()) ? route.continue() : route.abort("blockedbyclient"),
);

// Everything the browser saw on one page, measured in the page itself.
function inspect() {
    const diagrams = [...document.querySelectorAll(".mermaid")].map((block) => {
        const svg = block.querySelector("svg");
        if (!svg) return { problem: "did not render (no SVG)" };
        if (svg.getAttribute("aria-roledescription") === "error" || /Syntax error in text/.test(svg.textContent)) {
            return { problem: "is mermaid's error SVG (Syntax error in text)" };
        }
        const box = svg.viewBox && svg.viewBox.baseVal;
        const rect = svg.getBoundingClientRect();
        if (!box || !box.width) return { problem: "SVG has no viewBox to measure" };
        return {
            kind: svg.getAttribute("aria-roledescription") || "diagram",
            scale: rect.width / box.width,
            column: block.getBoundingClientRect().width,
            width: rect.width,
            height: rect.height,
        };
    });
    const code = [...document.querySelectorAll("pre > code")];
    const emptyCode = code.filter((el) => el.textContent.trim() === "").length;
    const text = document.querySelector("main")?.textContent ?? document.body.textContent;
    const leftIncludes = (text.match(/\{\{#(rustdoc_)?include[^}]*\}\}/g) || []).slice(0, 3);
    const links = [...document.querySelectorAll("a[href]")].map((a) => ({
        href: a.href,
        raw: a.getAttribute("href"),
        text: a.textContent.trim().slice(0, 40),
    }));
    const ids = [...document.querySelectorAll("[id], a[name]")].map((el) => el.id || el.getAttribute("name"));
    const runnable = document.querySelectorAll("pre.playground").length;
    return { diagrams, codeBlocks: code.length, emptyCode, leftIncludes, links, ids, runnable };
}

// Wait until mermaid has finished: every block holds an SVG, or mermaid stopped (after an
// error the blocks after it are never drawn, so "nothing changed for 1.5 s" ends the wait).
async function mermaidSettled(page) {
    const started = Date.now();
    let last = null;
    let stableSince = Date.now();
    while (Date.now() - started < RENDER_TIMEOUT_MS) {
        const state = await page.evaluate(() => {
            const blocks = [...document.querySelectorAll(".mermaid")];
            return { total: blocks.length, drawn: blocks.filter((b) => b.querySelector("svg")).length };
        });
        if (state.drawn === state.total) return;
        const key = `${state.drawn}/${state.total}`;
        if (key !== last) {
            last = key;
            stableSince = Date.now();
        } else if (Date.now() - stableSince > 1500 && state.drawn > 0) {
            return;
        }
        await new Promise((ok) => setTimeout(ok, 100));
    }
}

async function check(name) {
    const page = await context.newPage();
    const problems = [];
    const pageStarted = Date.now();
    page.on("console", (msg) => {
        if (msg.type() === "error") problems.push(`console error: ${msg.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`uncaught exception: ${error.message}`));
    page.on("requestfailed", (request) => {
        if (!isLocal(request.url())) problems.push(`asked for an outside resource: ${request.url()}`);
    });
    const url = origin + base + name;
    let seen = null;
    try {
        const response = await page.goto(url, { waitUntil: "load", timeout: 60_000 });
        if (!response || (response.status() !== 200 && name !== "404.html")) {
            problems.push(`HTTP ${response ? response.status() : "no response"}`);
        }
        await mermaidSettled(page);
        seen = await page.evaluate(inspect);
    } catch (error) {
        problems.push(`could not load: ${error.message.split("\n")[0]}`);
    }
    await page.close();
    return { name, problems, seen, ms: Date.now() - pageStarted };
}

// Two pages at a time: the machine has two cores.
const JOBS = Math.max(1, Number(process.env.BOOK_TEST_JOBS) || 2);
const results = new Array(pages.length);
let next = 0;
const started = Date.now();
await Promise.all(
    Array.from({ length: JOBS }, async () => {
        while (next < pages.length) {
            const i = next++;
            results[i] = await check(pages[i]);
        }
    }),
);
await context.close();
rmSync(profile, { recursive: true, force: true });
server.close();

// ---- links: checked once every page's ids are known ---------------------------------------------

const idsOf = new Map(results.filter((r) => r.seen).map((r) => [r.name, new Set(r.seen.ids)]));
for (const result of results) {
    if (!result.seen) continue;
    const broken = new Set();
    for (const link of result.seen.links) {
        const target = new URL(link.href);
        if (target.origin !== origin) continue; // outside the book: not ours to check here
        const file = fileFor(target.pathname);
        const where = `"${link.raw}"${link.text ? ` ("${link.text}")` : ""}`;
        if (!file) {
            broken.add(`broken link ${where}: no such page`);
            continue;
        }
        const hash = decodeURIComponent(target.hash.slice(1));
        if (!hash) continue;
        const targetName = relative(bookDir, file).split(sep).join("/");
        const ids = idsOf.get(targetName);
        if (ids && !ids.has(hash)) broken.add(`broken link ${where}: ${targetName} has no #${hash}`);
    }
    result.problems.push(...broken);
}

// ---- diagrams, code blocks, includes ----------------------------------------------------------

for (const result of results) {
    if (!result.seen) continue;
    const lines = mermaidLines(result.name);
    const { diagrams } = result.seen;
    const label = (i) =>
        lines.length === diagrams.length ? `diagram at ${result.name.replace(/\.html$/, ".md")}:${lines[i]}` : `diagram ${i + 1}`;
    diagrams.forEach((d, i) => {
        if (d.problem) result.problems.push(`${label(i)} ${d.problem}`);
        else if (d.scale < MIN_SCALE) {
            result.problems.push(
                `${label(i)} is drawn at ${d.scale.toFixed(2)}x (below ${MIN_SCALE}x: its text is too small to read); redraw it narrower`,
            );
        } else if (d.height > MAX_HEIGHT) {
            result.problems.push(
                `${label(i)} is ${Math.round(d.height)} px tall (over ${MAX_HEIGHT} px: more than a screen); redraw it shorter`,
            );
        }
    });
    if (result.seen.emptyCode) result.problems.push(`${result.seen.emptyCode} empty code block(s): an include that matched nothing`);
    if (result.seen.runnable) {
        result.problems.push(
            `${result.seen.runnable} Rust block(s) with a Run button for the Rust playground, where none compiles (book.toml: [output.html.playground] runnable = false)`,
        );
    }
    for (const left of result.seen.leftIncludes) result.problems.push(`include directive left in the text: ${left}`);
}

// ---- report -------------------------------------------------------------------------------------

let failed = 0;
for (const { name, problems, seen, ms } of results) {
    const ok = problems.length === 0;
    if (!ok) failed++;
    let detail = "";
    if (seen) {
        const drawn = seen.diagrams.filter((d) => d.scale !== undefined);
        const scales = drawn.map((d) => d.scale);
        const diagramText = seen.diagrams.length
            ? `${seen.diagrams.length} diagram(s), scale ${Math.min(...scales, Infinity).toFixed(2)}-${Math.max(...scales, 0).toFixed(2)}, tallest ${Math.round(Math.max(...drawn.map((d) => d.height), 0))} px`
            : "no diagrams";
        detail = `${diagramText}; ${seen.codeBlocks} code blocks; ${seen.links.length} links`;
    }
    console.log(
        `${ok ? "ok  " : "FAIL"} ${name.padEnd(22)} ${detail}; ${(ms / 1000).toFixed(1)} s${ok ? "" : ` (${problems.length} problem(s))`}`,
    );
}
for (const { name, problems } of results) {
    for (const problem of problems) console.log(`  ${name}: ${problem}`);
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(`browser test: ${pages.length} pages checked in ${seconds} s, ${failed} with problems`);
process.exit(failed ? 1 : 0);
