// The book's trace player: replays a trace of the real loop (the JSON lines format of
// src/trace/format.rs) with the same panels as `cargo learn viz` — the phase ring, the call
// stack, the queues, the output, the thread pool, the poll wait and the refs.
//
// A chapter embeds a trace as
//
//   <script type="application/x-ndjson" class="trace-player">
//   {{#include traces/p04-microtasks-between-timers.jsonl}}
//   </script>
//
// and this file puts a player after each such element. No framework, no network: the trace is
// in the page, so the book works offline. Colours come from mdBook's theme variables, so the
// player follows the light and dark themes.
(function () {
    "use strict";

    var PHASES = ["pending", "idle", "prepare", "poll", "check", "closing", "timers"];
    var QUEUES = ["timers", "immediates", "ticks", "microtasks", "pending", "closing"];
    var SPEEDS = [1, 2, 5, 10, 20, 50];

    // ---- reading the trace ------------------------------------------------------------------

    function parse(text) {
        var lines = text.split("\n").filter(function (l) { return l.trim() !== ""; });
        if (lines.length === 0) throw new Error("the trace is empty");
        var header = JSON.parse(lines[0]);
        if (header.format !== "eventloop-trace") throw new Error("not an eventloop trace");
        if (header.version !== 1) throw new Error("trace format version " + header.version + " is not 1");
        return { header: header, events: lines.slice(1).map(function (l) { return JSON.parse(l); }) };
    }

    // ---- the loop's state after some events (as src/bin/learn/viz/model.rs) ---------------------

    function initial() {
        var queues = {};
        QUEUES.forEach(function (q) { queues[q] = []; });
        return {
            applied: 0, t: 0, phase: null, lastPhase: null, iteration: 0, stack: [],
            queues: queues, jobs: [], workers: {}, poll: null, refs: null, drain: null,
            output: [], beforeExit: false, exit: null, returned: null, stalled: false, drainDepth: 0
        };
    }

    function copy(s) {
        var c = JSON.parse(JSON.stringify(s));
        return c;
    }

    function apply(s, e) {
        s.applied += 1;
        s.t = e.t;
        switch (e.ev) {
        case "phase":
            if (e.phase === "pending") s.iteration += 1;
            s.phase = e.phase; s.lastPhase = e.phase; break;
        case "phase_end": s.phase = null; break;
        case "queued":
            if (s.queues[e.queue]) s.queues[e.queue].push({ name: e.name, id: e.id, by: e.by });
            break;
        case "unqueued":
            if (e.queue === "pool") {
                s.jobs = s.jobs.filter(function (j) { return j.id !== e.id; });
            } else if (s.queues[e.queue]) {
                var list = s.queues[e.queue];
                var at = e.id === undefined ? (list.length ? 0 : -1)
                    : list.findIndex(function (x) { return x.id === e.id; });
                if (at >= 0) list.splice(at, 1);
            }
            break;
        case "start":
            // A job of a checkpoint left its queue as it started (see src/trace/format.rs).
            if (s.drain && s.stack.length === s.drainDepth) {
                var q = s.queues[e.name === "nextTick" ? "ticks" : "microtasks"];
                if (q.length) q.shift();
            }
            s.stack.push(e.name);
            break;
        case "end": s.stack.pop(); break;
        case "drain": s.drain = [e.ticks, e.microtasks]; s.drainDepth = s.stack.length; break;
        case "drain_end": s.drain = null; break;
        case "poll_wait": s.poll = { timeout: e.timeout, waiting: true }; break;
        case "poll_woke":
            s.poll = { timeout: s.poll ? s.poll.timeout : null, waiting: false, waited: e.waited, events: e.events };
            break;
        case "stalled": s.stalled = true; break;
        case "work_queued": s.jobs.push({ id: e.job, name: e.name, state: "queued" }); break;
        case "work_started": setJob(s, e.job, "running", e.worker); s.workers[e.worker] = e.job; break;
        case "work_finished":
            setJob(s, e.job, "finished", e.worker, e.ran_us); s.workers[e.worker] = null; break;
        case "alive": s.refs = [e.handles, e.requests, e.alive]; break;
        case "before_exit": s.beforeExit = true; break;
        case "exit": s.exit = e.code; break;
        case "run_returned": s.returned = e.alive; s.phase = null; break;
        case "output": s.output.push(e.line); break;
        default: break; // queues, poll_ready, work_done: shown by describe() alone
        }
    }

    function setJob(s, id, state, worker, us) {
        s.jobs.forEach(function (j) {
            if (j.id === id) { j.state = state; j.worker = worker; j.us = us; }
        });
    }

    function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

    // What an event means, in a few words (as describe() in src/bin/learn/viz/text.rs).
    function describe(e, before) {
        switch (e.ev) {
        case "phase": return "enter the " + e.phase + " phase";
        case "phase_end": return "leave the " + e.phase + " phase";
        case "queues":
            return "queues: timers " + e.timers + ", immediates " + e.immediates + ", ticks " + e.ticks +
                ", microtasks " + e.microtasks + ", pending " + e.pending + ", closing " + e.closing +
                ", pool " + e.pool;
        case "queued":
            return (e.by || "the top level") + " queues " + e.name + (e.id !== undefined ? " #" + e.id : "") +
                " on " + e.queue;
        case "unqueued": {
            var list = before.queues[e.queue] || [];
            var found = e.id === undefined ? list[0] : list.find(function (x) { return x.id === e.id; });
            var which = e.id !== undefined ? "#" + e.id + " from " + e.queue : "the oldest from " + e.queue;
            return "take " + which + (found ? " (" + found.name + ")" : "");
        }
        case "start": return "call " + e.name;
        case "end": return e.name + " returns";
        case "drain":
            return "checkpoint: drain " + plural(e.ticks, "tick", "ticks") + " then " +
                plural(e.microtasks, "microtask", "microtasks");
        case "drain_end": return "checkpoint done: no tick or microtask left";
        case "poll_wait":
            if (e.timeout === null) return "poll: wait until woken (no timeout)";
            if (e.timeout === 0) return "poll without waiting (timeout 0)";
            return "poll: wait at most " + e.timeout + " ms";
        case "poll_woke": return "poll woke after " + e.waited + " ms with " + plural(e.events, "event", "events");
        case "poll_ready": return "the kernel reports " + plural(e.events, "ready descriptor", "ready descriptors");
        case "stalled": return "stalled: nothing could ever wake the wait, so the run stops";
        case "work_queued": return "submit job #" + e.job + " (" + e.name + ") to the pool";
        case "work_started": return "worker " + e.worker + " starts job #" + e.job;
        case "work_finished": return "worker " + e.worker + " finishes job #" + e.job + " after " + e.ran_us + " µs";
        case "work_done": return "poll collects " + plural(e.jobs, "finished job", "finished jobs");
        case "alive":
            return "alive? " + plural(e.handles, "ref'd handle", "ref'd handles") + " and " +
                plural(e.requests, "request", "requests") + ": " + (e.alive ? "yes, go on" : "no");
        case "before_exit": return "process emits beforeExit";
        case "exit": return "process emits exit (code " + e.code + ")";
        case "run_returned": return "run returns (" + (e.alive ? "still alive" : "done") + ")";
        case "output": return "prints: " + e.line;
        default: return e.ev;
        }
    }

    // ---- drawing -------------------------------------------------------------------------------

    function el(tag, cls, text) {
        var node = document.createElement(tag);
        if (cls) node.className = cls;
        if (text !== undefined) node.textContent = text;
        return node;
    }

    function panel(title, cls) {
        var box = el("div", "tp-panel " + cls);
        box.appendChild(el("div", "tp-title", title));
        var body = el("div", "tp-body");
        box.appendChild(body);
        return { box: box, body: body };
    }

    function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

    function label(entry) {
        return entry.name + (entry.id !== undefined ? "#" + entry.id : "") + (entry.by ? " ← " + entry.by : "");
    }

    function Player(script) {
        var trace = parse(script.textContent);
        this.events = trace.events;
        this.title = trace.header.program || "trace";
        this.clock = trace.header.clock;
        this.position = 0;
        this.timer = null;
        this.speed = 2;
        // States every 64 events: stepping back replays at most 63.
        this.snapshots = [initial()];
        var s = initial();
        for (var i = 0; i < this.events.length; i++) {
            apply(s, this.events[i]);
            if ((i + 1) % 64 === 0) this.snapshots.push(copy(s));
        }
        this.build(script);
        this.show();
    }

    Player.prototype.state = function (n) {
        var s = copy(this.snapshots[Math.floor(n / 64)]);
        for (var i = s.applied; i < n; i++) apply(s, this.events[i]);
        return s;
    };

    Player.prototype.build = function (script) {
        var self = this;
        var root = el("div", "trace-player-widget");
        root.tabIndex = 0;
        root.setAttribute("role", "group");
        root.setAttribute("aria-label", "trace player: " + this.title);
        root.setAttribute("data-program", this.title);
        var head = el("div", "tp-head");
        head.appendChild(el("strong", "tp-name", this.title));
        this.status = el("span", "tp-status");
        head.appendChild(this.status);
        root.appendChild(head);

        this.ring = el("div", "tp-ring");
        this.phaseNodes = {};
        PHASES.forEach(function (p, i) {
            var node = el("span", "tp-phase", p);
            self.phaseNodes[p] = node;
            self.ring.appendChild(node);
            self.ring.appendChild(el("span", "tp-arrow", i + 1 < PHASES.length ? "→" : "↺"));
        });
        this.note = el("span", "tp-note");
        this.ring.appendChild(this.note);
        root.appendChild(this.ring);

        var grid = el("div", "tp-grid");
        var stack = panel("call stack", "tp-stack");
        var queues = panel("queues", "tp-queues");
        var output = panel("output", "tp-output");
        var pool = panel("thread pool", "tp-pool");
        var poll = panel("poll", "tp-poll");
        var refs = panel("refs", "tp-refs");
        [stack, queues, output, pool, poll, refs].forEach(function (p) { grid.appendChild(p.box); });
        this.panels = { stack: stack.body, queues: queues.body, output: output.body, pool: pool.body,
            poll: poll.body, refs: refs.body };
        root.appendChild(grid);

        this.line = el("div", "tp-event");
        root.appendChild(this.line);

        var controls = el("div", "tp-controls");
        function button(action, text, title, handler) {
            var b = el("button", "tp-button", text);
            b.type = "button";
            b.title = title;
            b.setAttribute("data-action", action);
            b.addEventListener("click", function () { handler(); root.focus(); });
            controls.appendChild(b);
            return b;
        }
        button("start", "« start", "to the start (Home)", function () { self.go(0); });
        button("back", "◀ back", "step back (←)", function () { self.go(self.position - 1); });
        this.playButton = button("play", "▶ play", "play or pause (space)", function () { self.toggle(); });
        button("step", "step ▶", "step forward (→)", function () { self.go(self.position + 1); });
        button("phase", "next phase", "to the next phase (p)", function () { self.go(self.next(false)); });
        button("iteration", "next iteration", "to the next iteration (i)", function () { self.go(self.next(true)); });
        button("end", "end »", "to the end (End)", function () { self.go(self.events.length); });
        this.speedButton = button("speed", "", "playback speed (+/−)", function () {
            self.speed = (self.speed + 1) % SPEEDS.length;
            self.show();
        });
        root.appendChild(controls);

        root.addEventListener("keydown", function (ev) {
            var handled = true;
            switch (ev.key) {
            case "ArrowRight": self.go(self.position + 1); break;
            case "ArrowLeft": self.go(self.position - 1); break;
            case " ": self.toggle(); break;
            case "Home": self.go(0); break;
            case "End": self.go(self.events.length); break;
            case "p": self.go(self.next(false)); break;
            case "i": self.go(self.next(true)); break;
            case "+": self.speed = Math.min(self.speed + 1, SPEEDS.length - 1); self.show(); break;
            case "-": self.speed = Math.max(self.speed - 1, 0); self.show(); break;
            default: handled = false;
            }
            if (handled) { ev.preventDefault(); ev.stopPropagation(); }
        });
        script.parentNode.insertBefore(root, script.nextSibling);
        this.root = root;
    };

    Player.prototype.next = function (iteration) {
        for (var n = this.position + 1; n <= this.events.length; n++) {
            var e = this.events[n - 1];
            if (e.ev === "phase" && (!iteration || e.phase === "pending")) return n;
        }
        return this.events.length;
    };

    Player.prototype.go = function (n) {
        this.position = Math.max(0, Math.min(n, this.events.length));
        if (this.timer && this.position >= this.events.length) this.stop();
        this.show();
    };

    Player.prototype.stop = function () {
        clearInterval(this.timer);
        this.timer = null;
    };

    Player.prototype.toggle = function () {
        var self = this;
        if (this.timer) {
            this.stop();
        } else {
            if (this.position >= this.events.length) this.position = 0;
            this.timer = setInterval(function () { self.go(self.position + 1); }, 1000 / SPEEDS[this.speed]);
        }
        this.show();
    };

    Player.prototype.show = function () {
        var s = this.state(this.position);
        var root = this.root;
        root.setAttribute("data-position", String(this.position));
        this.status.textContent = "event " + this.position + "/" + this.events.length + " · t = " + s.t + " ms · " +
            (s.iteration === 0 ? "before the first iteration" : "iteration " + s.iteration) +
            (this.clock === "system" ? " · real time" : "");
        var self = this;
        PHASES.forEach(function (p) {
            var node = self.phaseNodes[p];
            node.classList.toggle("tp-lit", s.phase === p);
            node.classList.toggle("tp-last", s.phase === null && s.lastPhase === p);
        });
        this.note.textContent = s.returned !== null ? "run returned" : s.drain ? "checkpoint"
            : s.lastPhase === null ? "main script" : "";

        var p = this.panels;
        clear(p.stack);
        if (s.stack.length === 0) p.stack.appendChild(el("div", "tp-dim", "(empty)"));
        s.stack.slice().reverse().forEach(function (frame, i) {
            p.stack.appendChild(el("div", i === 0 ? "tp-frame tp-lit" : "tp-frame", frame));
        });

        clear(p.queues);
        QUEUES.forEach(function (q) {
            var row = el("div", "tp-queue");
            row.appendChild(el("span", "tp-qname", q + " " + s.queues[q].length));
            s.queues[q].forEach(function (entry) { row.appendChild(el("span", "tp-entry", label(entry))); });
            p.queues.appendChild(row);
        });
        if (s.drain) p.queues.appendChild(el("div", "tp-dim", "draining: found " + s.drain[0] + " ticks, " + s.drain[1] + " microtasks"));

        clear(p.output);
        var list = el("ol", "tp-lines");
        s.output.forEach(function (line) { list.appendChild(el("li", "", line)); });
        p.output.appendChild(list);

        clear(p.pool);
        var queued = s.jobs.filter(function (j) { return j.state === "queued"; });
        p.pool.appendChild(el("div", "", "queue: " + (queued.map(function (j) { return j.name + "#" + j.id; }).join(", ") || "—")));
        Object.keys(s.workers).sort().forEach(function (w) {
            var job = s.jobs.find(function (j) { return j.id === s.workers[w]; });
            p.pool.appendChild(el("div", "", "worker " + w + ": " + (job ? "runs " + job.name + "#" + job.id : "idle")));
        });
        s.jobs.filter(function (j) { return j.state === "finished"; }).forEach(function (j) {
            p.pool.appendChild(el("div", "tp-dim", "done: " + j.name + "#" + j.id + " (" + j.us + " µs)"));
        });

        clear(p.poll);
        if (!s.poll) {
            p.poll.appendChild(el("div", "tp-dim", "not polled yet"));
        } else {
            p.poll.appendChild(el("div", "", s.poll.timeout === null ? "timeout: none (until woken)" : "timeout: " + s.poll.timeout + " ms"));
            p.poll.appendChild(el("div", "", s.poll.waiting ? "waiting…" : "woke after " + s.poll.waited + " ms, " + plural(s.poll.events, "event", "events")));
        }
        if (s.stalled) p.poll.appendChild(el("div", "", "stalled: nothing can wake it"));

        clear(p.refs);
        if (!s.refs) {
            p.refs.appendChild(el("div", "tp-dim", "not checked yet"));
        } else {
            p.refs.appendChild(el("div", "", "ref'd handles " + s.refs[0]));
            p.refs.appendChild(el("div", "", "requests " + s.refs[1]));
            p.refs.appendChild(el("div", "", "alive: " + (s.refs[2] ? "yes" : "no")));
        }
        if (s.exit !== null) p.refs.appendChild(el("div", "tp-strong", "exit, code " + s.exit));
        else if (s.beforeExit) p.refs.appendChild(el("div", "tp-strong", "beforeExit"));

        this.line.textContent = this.position === 0 ? "the start: step with → or press play"
            : "▸ " + describe(this.events[this.position - 1], this.state(this.position - 1));
        this.playButton.textContent = this.timer ? "❚❚ pause" : "▶ play";
        this.speedButton.textContent = SPEEDS[this.speed] + "/s";
    };

    function start() {
        var scripts = document.querySelectorAll('script.trace-player[type="application/x-ndjson"]');
        Array.prototype.forEach.call(scripts, function (script) {
            try {
                script.player = new Player(script);
            } catch (err) {
                var note = el("p", "tp-error", "This trace could not be shown: " + err.message);
                script.parentNode.insertBefore(note, script.nextSibling);
                throw err;
            }
        });
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
